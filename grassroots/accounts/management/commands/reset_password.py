"""``manage.py reset_password USERNAME --reason TEXT``: a forgotten password.

A temporary password that meets the configured profile is made and printed once (or read from
standard input with ``--stdin``); every session of the account ends. Give it to the person by a
second channel and ask them to change it at once (修改密码). Audited with the reason, never the
password.
"""

from __future__ import annotations

import secrets
import string
import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser

from grassroots.accounts.management.account_command import AccountCommand
from grassroots.accounts.models import User
from grassroots.accounts.passwords import password_reset
from grassroots.audit.services import Actor
from grassroots.core.errors import DomainError

# No look-alikes (0/O, 1/l/I): the password is read out or copied by hand.
ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
SYMBOLS = "#%+-=@"


def temporary_password(length: int = 16) -> str:
    """Random letters and digits with an upper, a lower, a digit and a symbol: meets every profile."""
    while True:
        chars = [secrets.choice(ALPHABET) for _ in range(length - 1)] + [secrets.choice(SYMBOLS)]
        secrets.SystemRandom().shuffle(chars)
        word = "".join(chars)
        if any(c.isupper() for c in word) and any(c.islower() for c in word) and any(c.isdigit() for c in word):
            return word


class Command(AccountCommand):
    help = "Set a temporary password for an account and end its sessions (audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--stdin", action="store_true", help="read the new password from standard input")

    def act(self, *, user: User, reason: str, actor: Actor, options: dict[str, Any]) -> None:
        password = sys.stdin.readline().rstrip("\n") if options["stdin"] else temporary_password()
        try:
            ended = password_reset(actor=actor, user=user, new_password=password, reason=reason)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"password of {user.username} reset; {ended} session(s) ended")
        if not options["stdin"]:
            self.stdout.write(f"temporary password (shown once): {password}")
