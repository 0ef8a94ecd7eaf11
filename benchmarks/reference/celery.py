from celery import Celery

app = Celery("reference")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.task(name="reference.triage")
def triage(ticket_ids: list[int]) -> None:
    """Never consumed in the benchmark: the reference only pays for the publish."""
