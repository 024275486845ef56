"""A settings module that imports cchc's development settings and only turns DEBUG off:
the mistake `cchc check --deploy` must catch (tests/test_settings.py runs it)."""

from cchc.settings import *  # noqa: F403

DEBUG = False
