"""Signals of the calendars app. Other apps react to calendar changes without calendars
depending on them (the dossier engine records a recompute of open dossiers,
`cchc.dossiers.recompute`).

Both are sent inside a transaction, so that what a receiver records (a recompute job)
commits or rolls back with the calendar change itself; a receiver queues its long work on
the worker after commit. Keyword arguments: calendar_code (str), actor (user or SYSTEM),
now (aware datetime). A receiver may return one Vietnamese line saying what is pending.
"""

from django.dispatch import Signal

# Sent inside the transaction that adds a calendar version (`services.add_version`, the
# admin's `announce_version`).
version_added = Signal()

# Sent by `services.check_dependents` (after `cchc calendar load`, whether or not the file
# changed anything): receivers make sure the work the version in force calls for is
# recorded and running — work a killed process left half done is found again.
calendar_checked = Signal()
