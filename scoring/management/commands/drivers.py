from django.core.management.base import BaseCommand
from django.utils import timezone

from scoring.access import all_stores
from scoring.drivers import key_drivers
from scoring.models import Kpi
from scoring.weeks import week_start


class Command(BaseCommand):
    help = "Which ROR categories move a KPI across the chain (LMG shares with a store bootstrap)."

    def add_arguments(self, parser):
        parser.add_argument("--kpi", choices=Kpi.values, default=Kpi.SALES)
        parser.add_argument("--horizon", type=int, default=4, help="weeks ahead")

    def handle(self, *args, kpi: str, horizon: int, **options):
        analysis = key_drivers(
            list(all_stores().values_list("id", flat=True)),
            end=week_start(timezone.localdate()),
            kpi=kpi,
            horizon=horizon,
        )
        if not analysis.enough:
            self.stdout.write(analysis.note)
            return
        self.stdout.write(
            f"{kpi} change over {horizon} weeks: R-squared {analysis.r_squared} "
            f"({analysis.rows} store-weeks, {analysis.stores} stores). Share of it, 90% interval:"
        )
        for d in analysis.drivers:
            self.stdout.write(f"  {d.category:<24} {d.importance:5.1f}%  [{d.low}, {d.high}]")
