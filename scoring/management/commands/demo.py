from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from scoring.demo import DEMO_PASSWORD, build_demo, non_demo_data
from scoring.weeks import week_label


def refuse_unless_demo_database() -> None:
    """Raise CommandError when the demo would overwrite a real installation: outside the laptop
    mode (DEMO_COMMANDS_ALLOWED, on with DEBUG), or when the database holds non-demo data."""
    if not settings.DEMO_COMMANDS_ALLOWED:
        raise CommandError(
            "Refusing to build the demo: this is not the laptop mode (DEBUG is off and "
            "DEMO_COMMANDS_ALLOWED is not set), and the demo resets `admin` and every demo login "
            f"to the public password {DEMO_PASSWORD!r}. Pass --force to build it anyway."
        )
    found = non_demo_data()
    if found:
        raise CommandError(
            "Refusing to build the demo over a database with real data ("
            + "; ".join(found)
            + "): it would overwrite demo-coded stores and reset `admin` to the public demo "
            "password. Pass --force to build it anyway."
        )


class Command(BaseCommand):
    help = "Create (or rebuild, idempotently) a demo chain with scores and people for every role."

    def add_arguments(self, parser):
        parser.add_argument("--stores", type=int, default=24)
        parser.add_argument("--weeks", type=int, default=26)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--force",
            action="store_true",
            help="build even outside the laptop mode or over non-demo data (resets demo logins)",
        )

    def handle(self, *args, stores: int, weeks: int, seed: int, force: bool = False, **options):
        if not force:
            refuse_unless_demo_database()
        summary = build_demo(stores=stores, weeks=weeks, seed=seed)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo chain: {summary.stores} stores, {summary.weeks} weeks "
                f"({week_label(summary.first_week)} to {week_label(summary.last_week)}), "
                f"{summary.submissions} questionnaires ({summary.answers} answers), "
                f"{summary.metric_readings} metric readings -> {summary.scores} category scores."
            )
        )
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for login in summary.logins:
            self.stdout.write(f"  {login.username:<18} {login.role:<14} {login.scope}")
