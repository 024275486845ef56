"""What the account commands (`cchc tokens`, `cchc twofactor`) share: one sub-command per
action, dispatched to `_<action>`, domain errors as their exit codes, users by name."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cchc.accounts.models import User
from cchc.errors import DomainError


class ActionCommand(BaseCommand):
    """A command whose sub-parsers set `action`; `_<action>(opts)` does the work."""

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None

    def _user(self, username: str) -> Any:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Không có người dùng '{username}'.", returncode=4)
        return user
