"""The import wizard's services: preview a file as the importer reads it, keep the upload as a draft, save mappings.

The wizard is: upload (a draft), preview (detected platform, sheet, header and
first rows, a field per column), then a normal ImportJob with the chosen
mapping and sheet, watched on the usual progress page.
"""
from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from feedback.models import ImportJob, ImportMappingPreset

from . import columns as cols
from .framework import data_rows, table_with_plan
from .service import ImportResult, import_job_create, source_resolve

PREVIEW_ROWS = 8


@dataclass
class ImportPreview:
    """What the import wizard shows before importing: the file as the importer reads it."""

    plan: cols.ColumnPlan
    format: str
    encoding: str | None
    sheet: str | None
    sheet_names: list[str]
    rows: list[tuple[int, list[str]]]  # the first data rows, as text
    warnings: list[str]

    def column_fields(self) -> list[str]:
        """The field each column fills (``ignore`` for the rest), in column order."""
        fields = [cols.IGNORE] * len(self.plan.headers)
        for name, index in self.plan.columns.items():
            if name not in self.plan.combined and index < len(fields):
                fields[index] = name
        for name, indexes in self.plan.combined.items():
            for index in indexes:
                fields[index] = name
        return fields


def import_preview(
    *, path: str | Path, source: str | None = None, sheet: str | None = None,
    column_mapping: dict[str, str] | None = None, rows: int = PREVIEW_ROWS,
) -> ImportPreview:
    """Read the header and the first rows the way ``import_file`` would; raise ImportFileError like it."""
    _, preset = source_resolve(source)
    report = ImportResult()
    with table_with_plan(
        path=path, report=report, mapping=column_mapping, preset=preset, sheet=sheet,
    ) as (table, plan, data):
        first: list[tuple[int, list[str]]] = []
        for row_number, cells in data_rows(data, report):
            first.append((row_number, [cols.cell_text(c) for c in cells]))
            if len(first) >= rows:
                break
        return ImportPreview(
            plan=plan, format=table.format, encoding=table.encoding, sheet=table.sheet_name,
            sheet_names=table.sheet_names, rows=first, warnings=[w["message"] for w in report.warnings],
        )



# --- the import wizard: a draft upload, then a job ---

DRAFT_DIR = "imports/drafts"
_DRAFT_TOKEN = re.compile(r"^[0-9a-f]{32}(\.(csv|xlsx|txt|tsv))?$")


def import_draft_save(*, upload) -> str:
    """Store an upload for the wizard's preview and return its token (the stored file's name)."""
    suffix = Path(upload.name or "").suffix.lower()
    token = uuid.uuid4().hex + (suffix if suffix in (".csv", ".xlsx", ".txt", ".tsv") else "")
    default_storage.save(f"{DRAFT_DIR}/{token}", upload)
    return token


def import_draft_name(token: str) -> str:
    """The storage name of a draft; raise ValueError for a token that is not one (no path tricks)."""
    if not _DRAFT_TOKEN.match(token or ""):
        raise ValueError("bad draft token")
    return f"{DRAFT_DIR}/{token}"


def import_draft_delete(*, token: str) -> None:
    name = import_draft_name(token)
    if default_storage.exists(name):
        default_storage.delete(name)


def import_job_from_draft(
    *, token: str, original_name: str, source: str, column_mapping: dict[str, str], sheet: str, created_by,
) -> ImportJob:
    """Turn a previewed draft into a queued ImportJob (see ``import_job_create``) and delete the draft."""
    name = import_draft_name(token)
    with default_storage.open(name, "rb") as stream:
        job = import_job_create(
            upload=File(stream, name=original_name), source=source, column_mapping=column_mapping,
            created_by=created_by, sheet=sheet,
        )
    import_draft_delete(token=token)
    return job


def mapping_preset_save(*, name: str, source: str, mapping: dict[str, str], created_by) -> ImportMappingPreset:
    """Save (or replace) a named column mapping for the next file of the same shape."""
    preset, _ = ImportMappingPreset.objects.update_or_create(
        name=name.strip()[:60], defaults={"source": (source or "")[:40], "mapping": mapping, "created_by": created_by},
    )
    return preset


@contextmanager
def import_draft_path(*, token: str) -> Iterator[str]:
    """A filesystem path for a draft (a temporary copy for storages without paths)."""
    name = import_draft_name(token)
    try:
        yield default_storage.path(name)
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as copy, default_storage.open(name, "rb") as source:
        shutil.copyfileobj(source, copy)
        copy.flush()
        yield copy.name


DRAFT_MAX_AGE = timedelta(days=1)


def import_drafts_purge(*, now: datetime | None = None, max_age: timedelta = DRAFT_MAX_AGE) -> int:
    """Delete wizard drafts nobody turned into a job within ``max_age``; return how many."""
    now = now or timezone.now()
    try:
        _, names = default_storage.listdir(DRAFT_DIR)
    except FileNotFoundError:
        return 0
    purged = 0
    for name in names:
        path = f"{DRAFT_DIR}/{name}"
        if now - default_storage.get_modified_time(path) > max_age:
            default_storage.delete(path)
            purged += 1
    return purged
