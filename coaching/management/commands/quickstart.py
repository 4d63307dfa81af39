import warnings

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from coaching.demo import create_demo_goals, create_demo_history, load_demo_modules
from scoring.access import all_stores
from scoring.management.commands.demo import refuse_unless_demo_database


class Command(BaseCommand):
    help = "Set up and run ROR Coach in one go: migrate, demo data, this week's coaching, serve."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="do everything but serve")
        parser.add_argument("--reset-demo", action="store_true", help="rebuild the demo data")
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument(
            "--debug",
            action="store_true",
            help="serve with Django's debug error pages (tracebacks) instead of the friendly ones",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even outside the laptop mode or over non-demo data (resets demo logins)",
        )

    def handle(
        self,
        *args,
        no_serve: bool,
        reset_demo: bool,
        addrport: str,
        force: bool = False,
        debug: bool = False,
        **options,
    ):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        if not force:  # the demo data below, and the demo logins, are for the laptop mode only
            refuse_unless_demo_database()
        if reset_demo or not all_stores().exists():
            call_command("demo", force=True, stdout=self.stdout)
        else:
            self.stdout.write("Demo data already present (--reset-demo rebuilds it).")
        modules = load_demo_modules()
        goals = create_demo_goals()
        history = create_demo_history()
        self.stdout.write(
            f"{modules} training modules published, {goals} demo goals added, "
            f"{history} past weekly plans added."
        )
        call_command("generate_coaching", stdout=self.stdout)
        call_command("impact", stdout=self.stdout)
        call_command("drivers", stdout=self.stdout)
        if no_serve:
            return
        self.stdout.write(
            f"Serving on http://{addrport}/ : log in as manager.s001, lead.north or trainer "
            "with the demo password above (Ctrl+C stops)."
        )
        serve(addrport, debug=debug)


def serve(addrport: str, *, debug: bool = False) -> None:
    """runserver, showing the pages people will meet: with DEBUG off, an unknown address or an
    error gets the friendly 404 or 500 page, not Django's debug page. Only DEBUG changes here:
    the laptop mode's other choices (its SECRET_KEY, plain static storage, the demo commands) were
    made when the settings loaded, and WhiteNoise serves the static files straight from the app
    folders, so no collectstatic is needed. ALLOWED_HOSTS already names 127.0.0.1 and localhost."""
    if not debug:
        settings.DEBUG = False
        settings.WHITENOISE_USE_FINDERS = True
        # WhiteNoise warns that STATIC_ROOT is missing; the finders make it unneeded here.
        warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    call_command("runserver", addrport, use_reloader=False)
