"""What a deployment must set comes from the environment (read in a fresh process, as at start-up)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PRINT = """
import json, django
django.setup()
from issues.conf import issue_setting
from issues.impact.conf import impact_setting
from django.conf import settings
print(json.dumps({
    "site": issue_setting("ISSUE_SITE_URL"),
    "recipients": issue_setting("ISSUE_REPORT_RECIPIENTS"),
    "webhook_timeout": issue_setting("ISSUE_WEBHOOK_TIMEOUT"),
    "sla": issue_setting("ISSUE_SLA_HOURS"),
    "spike_min": issue_setting("ISSUE_SPIKE_MIN_TICKETS"),
    "window": impact_setting("IMPACT_WINDOW_DAYS"),
    "threshold": settings.TRIAGE_CONFIDENCE_THRESHOLD,
    "bulk_queue": settings.CELERY_TASK_ROUTES["feedback.run_import"]["queue"],
}))
"""


def read_settings(**environment: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ISSUE_", "IMPACT_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **environment)
    output = subprocess.run([sys.executable, "-c", PRINT], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def test_defaults_run_out_of_the_box():
    values = read_settings()
    assert values["site"] == "http://127.0.0.1:8000"
    assert values["recipients"] == [] and values["window"] == 14 and values["bulk_queue"] == "bulk"


def test_a_deployment_sets_site_url_recipients_timeouts_sla_and_thresholds():
    values = read_settings(
        ISSUE_SITE_URL="https://triage.example.cn",
        ISSUE_REPORT_RECIPIENTS="ops@example.cn,boss@example.cn",
        ISSUE_WEBHOOK_TIMEOUT="2.5",
        ISSUE_SLA_HOURS=json.dumps({"P1": {"acknowledge": 1, "resolve": 24}}),
        ISSUE_SPIKE_MIN_TICKETS="9",
        IMPACT_WINDOW_DAYS="21",
        TRIAGE_CONFIDENCE_THRESHOLD="0.7",
        CELERY_BULK_QUEUE="slow",
    )
    assert values["site"] == "https://triage.example.cn"
    assert values["recipients"] == ["ops@example.cn", "boss@example.cn"]
    assert values["webhook_timeout"] == 2.5
    assert values["sla"]["P1"] == {"acknowledge": 1, "resolve": 24}
    assert values["sla"]["P3"] == {"acknowledge": 24, "resolve": 240}  # not given: keeps its default
    assert values["spike_min"] == 9 and values["window"] == 21 and values["threshold"] == 0.7
    assert values["bulk_queue"] == "slow"
