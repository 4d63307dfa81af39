from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from coaching.plans.batch import generate_week
from scoring.access import all_stores
from scoring.weeks import parse_week, week_label, week_start


class Command(BaseCommand):
    help = "Generate the weekly coaching plans (this week by default)."

    def add_arguments(self, parser):
        parser.add_argument("--week", help="ISO week (2026-W48) or a date in it; default this week")
        parser.add_argument("--store", help="only this store code")
        parser.add_argument("--force", action="store_true", help="regenerate even if unchanged")

    def handle(self, *args, week: str | None, store: str | None, force: bool, **options):
        try:
            monday = parse_week(week) if week else week_start(timezone.localdate())
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if store and not all_stores().filter(code=store).exists():
            raise CommandError(f"unknown store {store!r}")
        result = generate_week(monday, store_code=store, force=force)
        self.stdout.write(self.style.SUCCESS(f"Week {week_label(monday)}: {result.summary()}"))
        for line in result.problem_lines():
            self.stdout.write(self.style.WARNING(f"  {line}"))
