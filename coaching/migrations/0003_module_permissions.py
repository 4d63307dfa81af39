from django.db import migrations

GROUP_PERMISSIONS = {
    "Store managers": ["view_trainingmodule", "view_moduleversion", "add_modulecompletion"],
    "Regional leads": ["view_trainingmodule", "view_moduleversion", "view_modulecompletion"],
    "Trainers": [
        "add_trainingmodule",
        "change_trainingmodule",
        "view_trainingmodule",
        "publish_trainingmodule",
        "view_moduleversion",
        "view_modulecompletion",
    ],
    "Administrators": None,  # every coaching permission
}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("coaching")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    coaching = Permission.objects.filter(content_type__app_label="coaching")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        chosen = coaching if codenames is None else coaching.filter(codename__in=codenames)
        group.permissions.add(*chosen)


class Migration(migrations.Migration):
    dependencies = [
        ("coaching", "0002_training_modules"),
        ("scoring", "0002_seed_categories_questions_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
