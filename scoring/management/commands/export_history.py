import csv

from django.core.management.base import BaseCommand, CommandError

from scoring.access import all_stores
from scoring.csv_safety import safe_row
from scoring.selectors import category_series
from scoring.weeks import week_label


class Command(BaseCommand):
    help = "Write a region's (or the chain's) weekly category scores as CSV."

    def add_arguments(self, parser):
        parser.add_argument("file", help="output file, '-' for standard output")
        parser.add_argument("--region", help="region code; default the whole chain")
        parser.add_argument("--weeks", type=int, default=26)

    def handle(self, *args, file: str, region: str | None, weeks: int, **options):
        if not 1 <= weeks <= 520:
            raise CommandError("--weeks must be between 1 and 520")
        stores = all_stores(region)
        if region and not stores.exists():
            raise CommandError(f"no stores in region {region!r}")
        rows = category_series(store_ids=list(stores.values_list("id", flat=True)), weeks=weeks)
        out = self.stdout if file == "-" else open(file, "w", newline="", encoding="utf-8")  # noqa: SIM115
        try:
            writer = csv.writer(out)
            writer.writerow(["store_code", "category", "week", "score"])
            for row in rows:
                writer.writerow(
                    safe_row([row["store"], row["category"], week_label(row["week"]), row["score"]])
                )
        finally:
            if out is not self.stdout:
                out.close()
