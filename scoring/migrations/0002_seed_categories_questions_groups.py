"""Seed the eight ROR categories, three default questions each, and one group per role."""

from django.db import migrations

CATEGORIES = [
    (
        "brand_loyalty",
        "Brand loyalty",
        "Why customers choose us: repeat visits, share of wallet and lifetime value.",
        [
            "I choose this store over others nearby.",
            "I come back here regularly.",
            "I would keep shopping here even if a competitor were cheaper.",
        ],
    ),
    (
        "customer_satisfaction",
        "Customer satisfaction",
        "Real-time satisfaction at each touchpoint: welcome, help, checkout, returns.",
        [
            "I was greeted and helped promptly.",
            "I found what I needed without trouble.",
            "Checkout was quick and easy.",
        ],
    ),
    (
        "customer_advocacy",
        "Customer advocacy",
        "Net Promoter Score, reviews and referrals.",
        [
            "I would recommend this store to a friend.",
            "I have said good things about this store to others.",
            "I would leave a positive review of this store.",
        ],
    ),
    (
        "team_engagement",
        "Team engagement",
        "Pulse checks, eNPS and how the team feels about work.",
        [
            "I feel motivated at work.",
            "I know what is expected of me on every shift.",
            "I would recommend this store as a place to work.",
        ],
    ),
    (
        "team_retention",
        "Team retention",
        "Turnover, and attracting and keeping good people.",
        [
            "I see myself still working here in a year.",
            "I have the chance to grow here.",
            "My schedule works for my life.",
        ],
    ),
    (
        "promotions_roi",
        "Promotions ROI",
        "Sales lift over discount cost, by customer segment.",
        [
            "Our promotions bring in the customers they are meant for.",
            "The team knows this week's promotions and how to offer them.",
            "Promotions are set up on time and displayed well.",
        ],
    ),
    (
        "manager_empowerment",
        "Manager empowerment",
        "Coaching and training the team receives, and the tools to do the job.",
        [
            "My manager coaches me regularly.",
            "I have had the training I need for my role.",
            "I have the tools I need to serve customers well.",
        ],
    ),
    (
        "community_engagement",
        "Community engagement",
        "Social, email and local community touchpoints.",
        [
            "This store is part of the local community.",
            "I hear from this store in ways I find useful (email, social).",
            "This store supports local causes or events.",
        ],
    ),
]

GROUP_PERMISSIONS = {
    "Store managers": ["view_store", "view_category", "view_categoryscore", "view_question"],
    "Regional leads": [
        "view_region",
        "view_store",
        "view_category",
        "view_categoryscore",
        "view_question",
        "import_scores",
    ],
    "Trainers": ["view_category", "view_question"],
    "Administrators": None,  # every scoring permission
}


def seed(apps, schema_editor):
    Category = apps.get_model("scoring", "Category")
    Question = apps.get_model("scoring", "Question")
    for order, (code, name, description, questions) in enumerate(CATEGORIES, start=1):
        category, _ = Category.objects.update_or_create(
            code=code,
            defaults={"name": name, "description": description, "display_order": order},
        )
        for position, text in enumerate(questions, start=1):
            Question.objects.get_or_create(
                category=category, display_order=position, defaults={"text": text}
            )


def seed_groups(apps, schema_editor):
    # Permissions are created after migrate; create them now so groups can hold them.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    scoring = Permission.objects.filter(content_type__app_label="scoring")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        chosen = scoring if codenames is None else scoring.filter(codename__in=codenames)
        group.permissions.add(*chosen)


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(seed_groups, migrations.RunPython.noop),
    ]
