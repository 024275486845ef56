"""Backups and restores: a consistent copy of the database (SQLite online backup or
`pg_dump`), the stored files and a manifest with a SHA-256 per file (`services`), and the
restore of such a copy into an empty database. `docs/backups.md` is the operator's guide."""
