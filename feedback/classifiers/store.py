"""Versioned model store on disk: one folder per version, an atomically replaced `active` pointer.

Layout under the root (FEEDBACK_MODEL_DIR)::

    <version>/model.joblib      the fitted TriageModel
    <version>/metadata.json     sizes, metrics on the held-out split, gate decision
    <version>/training.npy      fingerprints of the examples it was trained on (keeps the gate fair)
    active.json                 {"version": ..., "history": [older active versions]}

Many worker processes on one machine read the pointer; writers replace it with
os.replace, which is atomic on POSIX, so a reader sees the old or the new file, never half.

Damage is repaired from what is on disk, never by forgetting it: a pointer that cannot be read
is rebuilt from the version folders (the newest activated version becomes active again, the
older ones its history), and an active model file that cannot be loaded is replaced by the
newest loadable version of its history (``load_active``), so agents' corrections are not
dropped for a seed-only model.

Permissions: web servers and workers may run as different Unix users sharing one group, so
everything is written readable by the group (files 0640, version folders 0750) and the lock
file group-writable (0660). Give FEEDBACK_MODEL_DIR to that group with the setgid bit
(``chgrp triage DIR && chmod 2770 DIR``) so new files inherit the group.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np

from .model import TriageModel

ACTIVE_FILE = "active.json"
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
FINGERPRINTS_FILE = "training.npy"
HISTORY_LIMIT = 50
FILE_MODE = 0o640
FOLDER_MODE = 0o750
LOCK_MODE = 0o660
logger = logging.getLogger(__name__)
# flock is per open file, so a thread re-taking its own lock would wait for itself.
_HELD = threading.local()


class ModelLoadError(RuntimeError):
    """The model file of a version is missing or cannot be read."""


class UnknownVersionError(LookupError):
    """No stored version has that id, or there is nothing to roll back to."""


@dataclass
class LoadedModel:
    """The model ``load_active`` returned, and what it had to repair on the way."""

    model: TriageModel
    version: str
    # The versions that could not be loaded, newest first, when an older one had to take over.
    unreadable: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def fell_back(self) -> bool:
        return bool(self.unreadable)


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, FILE_MODE)  # mkstemp makes 0600: a worker running as another user would see no model
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class ModelStore:
    """Save, list, load, activate and roll back model versions under one directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # --- writing ---
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive inter-process lock (training, activation, recovery); re-entrant in a process."""
        held: dict[str, int] = _HELD.__dict__.setdefault("depth", {})
        key = str(self.root.resolve())
        if held.get(key):
            held[key] += 1
            try:
                yield
            finally:
                held[key] -= 1
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            with contextlib.suppress(PermissionError):  # only its owner may change it
                os.fchmod(handle.fileno(), LOCK_MODE)
            fcntl.flock(handle, fcntl.LOCK_EX)
            held[key] = 1
            try:
                yield
            finally:
                held[key] = 0
                fcntl.flock(handle, fcntl.LOCK_UN)

    def new_version_id(self) -> str:
        """Return a sortable, unique version id such as 20261127T101500-3f9a."""
        return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(2)

    def save(self, model: TriageModel, metadata: dict[str, Any], fingerprints: np.ndarray | None = None) -> str:
        """Write a new version folder (complete before it becomes visible) and return its id."""
        self.root.mkdir(parents=True, exist_ok=True)
        version = metadata.get("version") or self.new_version_id()
        metadata = {**metadata, "version": version}
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{version}."))
        try:
            joblib.dump(model, staging / MODEL_FILE, compress=3)
            (staging / METADATA_FILE).write_text(json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8")
            np.save(staging / FINGERPRINTS_FILE, np.asarray(fingerprints if fingerprints is not None else [], dtype=np.uint64))
            for name in (MODEL_FILE, METADATA_FILE, FINGERPRINTS_FILE):
                os.chmod(staging / name, FILE_MODE)
            os.chmod(staging, FOLDER_MODE)
            os.replace(staging, self.root / version)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return version

    def _write_pointer(self, pointer: dict[str, Any]) -> None:
        _write_atomically(self.root / ACTIVE_FILE, json.dumps(pointer, ensure_ascii=False).encode("utf-8"))

    def activate(self, version: str) -> None:
        """Make a version the active one, remembering the previous one for rollback."""
        if not (self.root / version / METADATA_FILE).exists():
            raise UnknownVersionError(f"no model version {version!r} in {self.root}")
        with self.lock():
            pointer = self._read_pointer()
            history = list(pointer.get("history", []))
            current = pointer.get("version")
            if current and current != version:
                history.append(current)
            self._write_pointer({"version": version, "history": history[-HISTORY_LIMIT:], "activated": _now()})

    def rollback(self, version: str | None = None) -> str:
        """Re-activate the previous active version (or the one named); return the now active id."""
        with self.lock():
            pointer = self._read_pointer()
            history = [v for v in pointer.get("history", []) if (self.root / v / METADATA_FILE).exists()]
            if version is None:
                if not history:
                    raise UnknownVersionError("no earlier active version to roll back to")
                version = history.pop()
            else:
                if not (self.root / version / METADATA_FILE).exists():
                    raise UnknownVersionError(f"no model version {version!r} in {self.root}")
                history = [v for v in history if v != version]
            self._write_pointer({"version": version, "history": history, "activated": _now(), "rolled_back": True})
        return version

    def rebuild_pointer(self) -> dict[str, Any]:
        """Rewrite a damaged pointer from the version folders and return it.

        The newest version whose metadata says it was activated becomes active (the newest
        version at all if none says so); the other activated ones, oldest first, its history.
        """
        with self.lock():
            pointer = self._parse_pointer()
            if pointer is not None:  # another process repaired it while this one waited
                return pointer
            stored = sorted(self._stored_metadata(), key=lambda m: (m.get("created", ""), m["version"]))
            activated = [m["version"] for m in stored if m.get("activated")] or [m["version"] for m in stored[-1:]]
            if not activated:
                return {}
            pointer = {"version": activated[-1], "history": activated[:-1][-HISTORY_LIMIT:], "activated": _now(),
                       "rebuilt": True}
            self._write_pointer(pointer)
            logger.error("model pointer %s was unreadable; rebuilt from %d stored versions, active %s",
                         self.root / ACTIVE_FILE, len(stored), pointer["version"])
            return pointer

    def load_active(self) -> LoadedModel:
        """Load the active model; if it cannot be loaded, the newest loadable earlier version instead.

        Candidates after the active one: its history, newest first, then any other stored version,
        newest first. The one that loads is activated (the unreadable ones leave the history) and
        the result lists what was skipped, for the caller to tell someone. Raises ModelLoadError
        when no version loads, UnknownVersionError when there is no active version at all.
        """
        active = self.active_version()
        if active is None:
            raise UnknownVersionError(f"no active model in {self.root}")
        try:
            return LoadedModel(self.load(active), active)
        except ModelLoadError as error:
            first_error = str(error)
        with self.lock():
            pointer = self._read_pointer()
            active = pointer.get("version", active)
            history = [v for v in pointer.get("history", []) if v != active]
            by_age = [m["version"] for m in sorted(self._stored_metadata(), key=lambda m: m.get("created", ""),
                                                   reverse=True)]
            candidates = [active] + list(reversed(history)) + [v for v in by_age if v != active and v not in history]
            unreadable: list[str] = []
            errors: list[str] = []
            for version in candidates:
                try:
                    model = self.load(version)
                except ModelLoadError as error:
                    unreadable.append(version)
                    errors.append(str(error))
                    continue
                if version != active or unreadable:
                    remaining = [v for v in history if v not in unreadable and v != version]
                    self._write_pointer({"version": version, "history": remaining, "activated": _now(),
                                         "fallback_from": unreadable})
                    logger.error("model %s cannot be loaded (%s); fell back to %s", active,
                                 "; ".join(errors) or first_error, version)
                return LoadedModel(model, version, unreadable, errors)
        raise ModelLoadError(f"no stored model version can be loaded ({'; '.join(errors) or first_error})")

    # --- reading ---
    def _parse_pointer(self) -> dict[str, Any] | None:
        """Return the pointer, {} when there is none, None when it is damaged."""
        try:
            pointer = json.loads((self.root / ACTIVE_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (ValueError, OSError):
            return None
        if not isinstance(pointer, dict) or not isinstance(pointer.get("history", []), list) or (
                pointer.get("version") is not None and not isinstance(pointer["version"], str)):
            return None
        return pointer

    def _read_pointer(self) -> dict[str, Any]:
        pointer = self._parse_pointer()
        return pointer if pointer is not None else self.rebuild_pointer()

    def _stored_metadata(self) -> list[dict[str, Any]]:
        """Return the metadata of every complete version folder (unreadable ones are skipped)."""
        if not self.root.exists():
            return []
        result = []
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or not (folder / METADATA_FILE).exists():
                continue
            with contextlib.suppress(ValueError, OSError):
                metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
                if isinstance(metadata, dict):
                    result.append({**metadata, "version": folder.name})
        return result

    def active_version(self) -> str | None:
        """Return the id of the active version, or None."""
        return self._read_pointer().get("version")

    def metadata(self, version: str) -> dict[str, Any]:
        """Return a version's metadata."""
        try:
            return json.loads((self.root / version / METADATA_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UnknownVersionError(f"no model version {version!r} in {self.root}") from None

    def versions(self) -> list[dict[str, Any]]:
        """Return every version's metadata, newest first, each marked active or not."""
        active = self.active_version()
        result = [{**metadata, "active": metadata["version"] == active} for metadata in self._stored_metadata()]
        return sorted(result, key=lambda m: m.get("created", ""), reverse=True)

    def load(self, version: str) -> TriageModel:
        """Load a version's model; raise ModelLoadError when the file is missing or corrupt."""
        path = self.root / version / MODEL_FILE
        try:
            model = joblib.load(path)
        except FileNotFoundError:
            raise ModelLoadError(f"model file missing: {path}") from None
        except Exception as error:  # joblib/pickle raise many types on a damaged file
            raise ModelLoadError(f"model file unreadable: {path} ({type(error).__name__}: {error})") from error
        if not isinstance(model, TriageModel):
            raise ModelLoadError(f"model file holds {type(model).__name__}, not a TriageModel: {path}")
        model.version = version
        return model

    def training_fingerprints(self, version: str) -> np.ndarray:
        """Return the fingerprints of the examples a version was trained on (empty if unknown)."""
        try:
            return np.load(self.root / version / FINGERPRINTS_FILE)
        except (OSError, ValueError):
            return np.zeros(0, dtype=np.uint64)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
