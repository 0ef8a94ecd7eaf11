from django.conf import settings

from config.celery import app


def test_every_beat_entry_of_the_issue_library_names_a_registered_task():
    import issues.tasks  # noqa: F401 - registers the tasks

    entries = {name: entry for name, entry in settings.CELERY_BEAT_SCHEDULE.items() if name.startswith("issues-")}
    assert {"issues-refresh-counts", "issues-flag-overdue", "issues-daily-report"} <= set(entries)
    for entry in entries.values():
        assert entry["task"] in app.tasks
