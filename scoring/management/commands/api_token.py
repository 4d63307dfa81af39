from django.core.management.base import BaseCommand, CommandError

from scoring.access import active_user
from scoring.services import api_token


class Command(BaseCommand):
    help = "Print a user's API token, creating it if needed (--rotate replaces it)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="revoke the old token first")

    def handle(self, *args, username, rotate, **options):
        user = active_user(username)
        if user is None:
            raise CommandError(f"no active user {username!r}")
        self.stdout.write(api_token(user, rotate=rotate))
