import os

import pytest

from accounts.models import Role
from tests.clock import travel_from_environment
from tests.factories import UserFactory


@pytest.fixture(autouse=True, scope="session")
def _clock_from_environment():
    """``TEST_NOW=...`` runs the whole suite on another day (see tests/clock.py)."""
    with travel_from_environment():
        yield


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """``TEST_SQLITE_FILE=path`` keeps the SQLite test database in a file that ``--reuse-db`` keeps.

    Only for mutation runs (bin/mutation): mutmut starts a fresh pytest session per
    mutant, and migrating an in-memory database each time cost most of the run.
    """
    path = os.environ.get("TEST_SQLITE_FILE")
    if path:
        from django.conf import settings

        assert settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"), "TEST_SQLITE_FILE needs SQLite"
        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = path


@pytest.fixture(autouse=True)
def _isolated_model_dir(settings, tmp_path_factory):
    """Never let a test read or write the developer's var/models."""
    settings.FEEDBACK_MODEL_DIR = tmp_path_factory.getbasetemp() / "models"


@pytest.fixture(autouse=True)
def _fresh_threshold_overrides():
    """Each test reads the per-category threshold overrides of its own database, not a cached copy."""
    from feedback.classification import threshold_cache_clear

    threshold_cache_clear()
    yield
    threshold_cache_clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing is not under test; the default hasher costs about a second per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def agent(db):
    return UserFactory(username="agent1", role=Role.AGENT)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin1", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def lead(db):
    from issues.models import Department

    return UserFactory(username="lead1", role=Role.LEAD, department=Department.objects.get(code="logistics"))


@pytest.fixture
def manager(db):
    return UserFactory(username="manager1", role=Role.MANAGER)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture(autouse=True)
def _taxonomy_after_flush(request):
    """Re-seed departments and categories for transactional tests.

    A transactional test flushes every table when it ends, including the rows
    the data migration seeded, so the next transactional test would start
    without a taxonomy.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    taxonomy_reseed()


def taxonomy_reseed() -> None:
    """Put back what the data migrations seed (departments, categories and their English descriptions)."""
    import importlib

    from django.apps import apps

    importlib.import_module("feedback.migrations.0002_seed_taxonomy").seed(apps, None)
    importlib.import_module("feedback.migrations.0010_category_description_en").describe_in_english(apps, None)
