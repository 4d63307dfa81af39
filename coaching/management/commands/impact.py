import csv

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from coaching.tracking.impact import IMPACT_CSV_HEADER, csv_row, report_rows
from coaching.tracking.selectors import coaching_impact
from scoring.access import all_stores
from scoring.weeks import week_start, weeks_back


class Command(BaseCommand):
    help = "Estimate coaching's effect on the coached categories (docs/impact.md)."

    def add_arguments(self, parser):
        parser.add_argument("--region", help="region code; default the whole chain")
        parser.add_argument("--weeks", type=int, default=26, help="coaching weeks to look back")
        parser.add_argument("--csv", metavar="FILE", help="write the table as CSV ('-': stdout)")

    def handle(self, *args, region, weeks, csv: str | None, **options):
        stores = all_stores(region)
        if region and not stores.exists():
            raise CommandError(f"no stores in region {region!r}")
        end = week_start(timezone.localdate())
        report = coaching_impact(
            list(stores.values_list("id", flat=True)), start=weeks_back(end, weeks), end=end
        )
        rows = report_rows(report)
        if csv:
            self._csv(rows, csv)
            return
        self.stdout.write("Coaching impact (difference in differences, 90% interval):")
        for label, e in rows:
            text = f"{e.effect:+.1f} points [{e.low:+.1f}, {e.high:+.1f}]" if e.enough else e.note
            self.stdout.write(f"  {label:<36} {text}  ({e.events} events, {e.stores} stores)")

    def _csv(self, rows, path: str) -> None:
        out = self.stdout if path == "-" else open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        try:
            writer = csv.writer(out)
            writer.writerow(IMPACT_CSV_HEADER)
            writer.writerows(csv_row(label, e) for label, e in rows)
        finally:
            if out is not self.stdout:
                out.close()
