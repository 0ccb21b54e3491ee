"""What the shell's account commands share: a user named on the command line, a reason, an actor.

There is no account management page yet, so an administrator disables accounts and resets
passwords and two-factor logins from the shell; every one of them is audited with the reason.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.accounts.models import User
from grassroots.audit.services import Actor


class AccountCommand(BaseCommand):
    """``manage.py <name> USERNAME --reason TEXT``; subclasses implement ``act``."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="why (kept in the audit log), e.g. a ticket number")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        reason = options["reason"].strip()
        if not reason:
            raise CommandError("--reason must say why")
        self.act(user=user, reason=reason, actor=Actor(id=None, label=f"manage.py {self.name}"), options=options)

    @property
    def name(self) -> str:
        return self.__module__.rsplit(".", 1)[-1]

    def act(self, *, user: User, reason: str, actor: Actor, options: dict[str, Any]) -> None:
        raise NotImplementedError
