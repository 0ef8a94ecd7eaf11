import pytest


@pytest.fixture(autouse=True)
def _impact_defaults(settings):
    """Each test starts from the documented defaults and runs Celery tasks in-process."""
    settings.IMPACT_WINDOW_DAYS = 14
    settings.CELERY_TASK_ALWAYS_EAGER = True
