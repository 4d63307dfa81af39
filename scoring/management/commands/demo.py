from django.core.management.base import BaseCommand

from scoring.demo import DEMO_PASSWORD, build_demo
from scoring.weeks import week_label


class Command(BaseCommand):
    help = "Create (or rebuild, idempotently) a demo chain with scores and people for every role."

    def add_arguments(self, parser):
        parser.add_argument("--stores", type=int, default=24)
        parser.add_argument("--weeks", type=int, default=26)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, stores: int, weeks: int, seed: int, **options):
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
