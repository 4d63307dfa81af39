from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from scoring.imports import import_scores


class Command(BaseCommand):
    help = (
        "Import category scores from a CSV (store_code,week,category,score[,responses,source]). "
        "All-or-nothing: any bad row and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count, write nothing"
        )

    def handle(self, *args, file: Path, dry_run: bool, **options):
        try:
            stream = file.open("rb")
        except OSError as exc:
            raise CommandError(f"cannot open {file}: {exc.strerror}") from exc
        with stream:
            result = import_scores(stream, dry_run=dry_run)
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            if result.error_count > len(result.errors):
                self.stderr.write(f"... and {result.error_count - len(result.errors)} more")
            raise CommandError(
                f"{result.error_count} bad row(s) in {file}; nothing was written.", returncode=1
            )
        prefix = "Dry run: " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(prefix + result.summary()))
