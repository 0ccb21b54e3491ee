"""``manage.py reset_2fa USERNAME --reason TEXT``: remove a user's two-factor login (a lost phone).

The user enrols again at their next login (at once, when GRASSROOTS_2FA_REQUIRED is on).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from grassroots.accounts.management.account_command import AccountCommand
from grassroots.accounts.models import User
from grassroots.accounts.two_factor import two_factor_reset
from grassroots.audit.services import Actor
from grassroots.core.errors import DomainError


class Command(AccountCommand):
    help = "Remove a user's two-factor login so that they enrol again (audited)."

    def act(self, *, user: User, reason: str, actor: Actor, options: dict[str, Any]) -> None:
        try:
            removed = two_factor_reset(actor=actor, user=user, reason=reason)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        if removed:
            self.stdout.write(f"two-factor login of {user.username} removed; they enrol again at their next login")
        else:
            self.stdout.write(f"{user.username} had no two-factor login; nothing removed (audited)")
