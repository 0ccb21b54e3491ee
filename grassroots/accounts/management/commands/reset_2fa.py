"""``manage.py reset_2fa USERNAME --reason TEXT``: remove a user's two-factor login (a lost phone).

There is no account management page yet, so an administrator resets from the shell; the
user enrols again at their next login (at once, when GRASSROOTS_2FA_REQUIRED is on).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.accounts.models import User
from grassroots.accounts.two_factor import two_factor_reset
from grassroots.audit.services import Actor
from grassroots.core.errors import DomainError

ACTOR = Actor(id=None, label="manage.py reset_2fa")


class Command(BaseCommand):
    help = "Remove a user's two-factor login so that they enrol again (audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="why (kept in the audit log), e.g. a ticket number")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        try:
            removed = two_factor_reset(actor=ACTOR, user=user, reason=options["reason"])
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        if removed:
            self.stdout.write(f"two-factor login of {user.username} removed; they enrol again at their next login")
        else:
            self.stdout.write(f"{user.username} had no two-factor login; nothing removed (audited)")
