from django.apps import AppConfig
from django.conf import settings

from cchc.jobs.schedule import parse_overrides


class JobsConfig(AppConfig):
    name = "cchc.jobs"
    label = "jobs"
    verbose_name = "Công việc nền"

    def ready(self) -> None:
        # A mistyped CCHC_SCHEDULE stops every process at start, not the scheduler at its
        # first tick.
        parse_overrides(getattr(settings, "CCHC_SCHEDULE", "") or "")
