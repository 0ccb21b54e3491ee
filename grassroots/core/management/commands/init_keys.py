from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.core.crypto import new_keyring, write_keyring


class Command(BaseCommand):
    help = "Create the personal-data keys file (settings.KEYS_FILE) if it does not exist."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="refuse; kept to explain why")

    def handle(self, *args: object, **options: object) -> None:
        path = settings.KEYS_FILE
        if options["force"]:
            raise CommandError(
                "Replacing the keys file would make every encrypted value unreadable; refused.", returncode=2
            )
        if path.exists():
            self.stdout.write(f"keys file exists: {path}")
            return
        write_keyring(path, new_keyring())
        self.stdout.write(f"keys file written: {path} (back it up: encrypted data cannot be read without it)")
