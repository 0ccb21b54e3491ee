"""``manage.py disable_user USERNAME --reason TEXT``: someone leaves or an account is compromised.

The account can no longer sign in; its API tokens are revoked and every signed-in session ends
at once (not at the next request). Audited with the reason. There is no account management page
yet, so an administrator does this from the shell.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grassroots.accounts.models import ApiToken, User
from grassroots.accounts.services import user_deactivate
from grassroots.audit.services import Actor

ACTOR = Actor(id=None, label="manage.py disable_user")


class Command(BaseCommand):
    help = "Disable an account: no sign-in, API tokens revoked, every session ended (audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="why (kept in the audit log), e.g. a ticket number")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        if not options["reason"].strip():
            raise CommandError("--reason must say why")
        if not user.is_active:
            self.stdout.write(f"{user.username} is already disabled; nothing changed")
            return
        tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
        user_deactivate(actor=ACTOR, user=user, reason=options["reason"].strip())
        self.stdout.write(f"{user.username} disabled: {tokens} API token(s) revoked, every session ended")
