"""Signals of the calendars app. Other apps react to calendar changes without calendars
depending on them (the dossier engine recomputes open dossiers on `version_added`)."""

from django.dispatch import Signal

# Sent after the transaction that added a calendar version commits.
# Keyword arguments: calendar_code (str), actor (user or SYSTEM), now (aware datetime).
version_added = Signal()
