from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from scoring.kpis import COLUMNS, import_kpis


class Command(BaseCommand):
    help = f"Import weekly store KPIs from a CSV ({','.join(COLUMNS)}); all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, file: str, dry_run: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        with path.open("rb") as stream:
            result = import_kpis(stream, dry_run=dry_run)
        for error in result.errors:
            self.stderr.write(str(error))
        if result.error_count > len(result.errors):
            self.stderr.write(f"... and {result.error_count - len(result.errors)} more")
        if not result.ok:
            raise CommandError(f"{result.error_count} bad rows; nothing was imported.")
        self.stdout.write(result.summary())
