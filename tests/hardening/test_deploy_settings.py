"""Item 1 of the hardening issue: no public secret key in production, `check --deploy` clean.

Each case starts `manage.py` in a fresh process, because settings are read once at start-up.
"""
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "kJ3v9-Qz_8pLr2Xw7Ys4Tn6Bm1Hc5Fd0Ga9Ue3Ri8Oa2Wl7Kx4Zq6Vj1Np5Mb",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "DJANGO_SECURE_HSTS_PRELOAD": "1",
    "DJANGO_SECURE_COOKIES": "1",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO=https",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        cwd=settings.BASE_DIR, env={**base, **env}, capture_output=True, text=True, timeout=180,
    )


def test_production_without_a_secret_key_refuses_to_start():
    completed = _manage("check", DJANGO_DEBUG="0")

    assert completed.returncode != 0
    assert "ImproperlyConfigured" in completed.stderr
    assert "DJANGO_SECRET_KEY is not set" in completed.stderr


def test_an_empty_secret_key_counts_as_none():
    completed = _manage("check", DJANGO_DEBUG="0", DJANGO_SECRET_KEY="")

    assert completed.returncode != 0 and "DJANGO_SECRET_KEY is not set" in completed.stderr


def test_development_runs_without_a_key():
    """bin/run sets DJANGO_DEBUG=1 and no key: a fresh checkout must still start."""
    completed = _manage("check", DJANGO_DEBUG="1")

    assert completed.returncode == 0, completed.stderr


def test_check_deploy_is_clean_in_the_production_profile():
    completed = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert completed.returncode == 0, completed.stderr
    assert "no issues" in completed.stdout


def test_check_deploy_names_what_production_forgot():
    """Without the HTTPS variables the deploy check still warns, so the defaults do not hide anything."""
    completed = _manage("check", "--deploy", DJANGO_DEBUG="0", DJANGO_SECRET_KEY=PRODUCTION["DJANGO_SECRET_KEY"])

    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in completed.stderr
    assert "drf_spectacular" not in completed.stderr


def test_https_settings_come_from_the_environment():
    completed = _manage(
        "shell", "-c",
        "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SECURE_HSTS_PRELOAD, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_AGE)",
        **PRODUCTION, DJANGO_SESSION_COOKIE_AGE="3600",
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "31536000 True True True True True ('HTTP_X_FORWARDED_PROTO', 'https') 3600"


@pytest.mark.django_db
def test_schema_generates_without_warnings(capsys):
    """Enum collisions and views that assume a logged-in user used to warn (drf_spectacular.W001)."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache
    enums = set(schema["components"]["schemas"])
    assert {"IssueStatusEnum", "IssuePriorityEnum", "IssueTransitionStatusEnum"} <= enums
    assert not [name for name in enums if re.fullmatch(r"(Status|Priority)[0-9a-f]{3}Enum", name)]
