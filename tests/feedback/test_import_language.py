"""An import's messages are written in the uploader's language, one language at a time."""
from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import TestCase
from django.utils import translation

from feedback.imports.service import import_job_create
from feedback.models import ImportJob
from feedback.tasks import run_import
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def png_job(user) -> ImportJob:
    job = ImportJob(original_name="photo.csv", created_by=user)
    job.file.save("photo.csv", ContentFile(PNG), save=True)
    return job


@pytest.mark.parametrize("language, expected, absent", [
    ("en", "Unsupported file format: a PNG image", "不支持"),
    ("zh-hans", "不支持的文件格式：PNG 图片", "Unsupported"),
])
def test_the_worker_writes_the_job_message_in_the_uploaders_language(language, expected, absent):
    job = png_job(UserFactory())
    run_import(job.pk, language=language)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert expected in job.message and absent not in job.message
    assert "(" + "PNG image" + ")" not in job.message  # no "中文 (English)" pairs


def test_a_job_is_sent_with_the_language_it_was_uploaded_in(monkeypatch):
    sent = []
    monkeypatch.setattr(run_import, "apply_async", lambda args=None, kwargs=None, **options: sent.append(kwargs))
    upload = ContentFile(PNG, name="photo.csv")
    with translation.override("en"), TestCase.captureOnCommitCallbacks(execute=True):
        import_job_create(upload=upload, source="", column_mapping={}, created_by=UserFactory())
    assert sent == [{"language": "en"}]
