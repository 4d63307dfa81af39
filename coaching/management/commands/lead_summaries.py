from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from coaching.tracking.services import send_lead_summaries
from scoring.weeks import parse_week, week_label, week_start


class Command(BaseCommand):
    help = "Email each regional lead their weekly summary (once per lead and week)."

    def add_arguments(self, parser):
        parser.add_argument("--week", help="ISO week, e.g. 2026-W48; default this week")

    def handle(self, *args, week: str | None, **options):
        try:
            monday = parse_week(week) if week else week_start(timezone.localdate())
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        sent = send_lead_summaries(monday)
        self.stdout.write(f"Week {week_label(monday)}: {sent} lead summaries sent.")
