"""``manage.py disable_user USERNAME --reason TEXT``: someone leaves or an account is compromised.

The account can no longer sign in; its API tokens are revoked and every signed-in session ends
at once (not at the next request). Audited with the reason.
"""

from __future__ import annotations

from typing import Any

from grassroots.accounts.management.account_command import AccountCommand
from grassroots.accounts.models import ApiToken, User
from grassroots.accounts.services import user_deactivate
from grassroots.audit.services import Actor


class Command(AccountCommand):
    help = "Disable an account: no sign-in, API tokens revoked, every session ended (audited)."

    def act(self, *, user: User, reason: str, actor: Actor, options: dict[str, Any]) -> None:
        if not user.is_active:
            self.stdout.write(f"{user.username} is already disabled; nothing changed")
            return
        tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
        user_deactivate(actor=actor, user=user, reason=reason)
        self.stdout.write(f"{user.username} disabled: {tokens} API token(s) revoked, every session ended")
