"""The Celery app. Broker and schedule come from Django settings (CELERY_*)."""
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("feedback_triage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_unusable_database_connections(**kwargs) -> None:
    """Treat each task like a request: drop a connection that broke or is older than CONN_MAX_AGE.

    With CELERY_DB_REUSE_MAX the Django fixup keeps connections open across tasks;
    this keeps that safe after a database restart or an error that left the connection unusable.
    """
    if getattr(kwargs.get("task"), "request", None) is not None and kwargs["task"].request.is_eager:
        return  # an eager task runs inside the caller's request or test transaction
    from django.db import close_old_connections

    close_old_connections()
