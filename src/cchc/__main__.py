"""The `cchc` console script: Django's management commands under one name.

A database that fails under a command — locked, full, read-only, unreachable — ends it with
one Vietnamese line on stderr and the exit code of its kind (10-14, `cchc.webkit.dbfailures`),
never a traceback; `--traceback` still shows one, for developers.
"""

import os
import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import execute_from_command_line

from cchc.webkit import dbfailures


def main(argv: list[str] | None = None) -> None:
    # settings are lazy: they read DJANGO_SETTINGS_MODULE on first use, below
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc.settings")

    try:
        # The default SQLite file, uploads and mail live under var/; create it on first use.
        settings.CCHC_VAR_DIR.mkdir(parents=True, exist_ok=True)
    except ImproperlyConfigured as exc:
        print(f"cchc: cấu hình không hợp lệ / invalid configuration: {exc}", file=sys.stderr)
        sys.exit(2)
    args = list(sys.argv if argv is None else argv)
    args[0] = "cchc"
    try:
        execute_from_command_line(args)
    except Exception as exc:
        failure = dbfailures.classify(exc)
        if failure is None or "--traceback" in args:
            raise
        sys.stdout.flush()
        print(failure.cli_line(), file=sys.stderr)
        sys.exit(failure.kind.exit_code)


if __name__ == "__main__":
    main()
