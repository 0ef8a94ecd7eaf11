"""Versioned model store on disk: one folder per version, an atomically replaced `active` pointer.

Layout under the root (FEEDBACK_MODEL_DIR)::

    <version>/model.joblib      the fitted TriageModel
    <version>/metadata.json     sizes, metrics on the held-out split, gate decision
    <version>/training.npy      fingerprints of the examples it was trained on (keeps the gate fair)
    active.json                 {"version": ..., "history": [older active versions]}

Many worker processes on one machine read the pointer; writers replace it with
os.replace, which is atomic on POSIX, so a reader sees the old or the new file, never half.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from .model import TriageModel

ACTIVE_FILE = "active.json"
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
FINGERPRINTS_FILE = "training.npy"
HISTORY_LIMIT = 50
# flock is per open file, so a thread re-taking its own lock would wait for itself.
_HELD = threading.local()


class ModelLoadError(RuntimeError):
    """The model file of a version is missing or cannot be read."""


class UnknownVersionError(LookupError):
    """No stored version has that id, or there is nothing to roll back to."""


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
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
            os.chmod(staging, 0o755)
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

    # --- reading ---
    def _read_pointer(self) -> dict[str, Any]:
        try:
            return json.loads((self.root / ACTIVE_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (ValueError, OSError):
            return {}  # a damaged pointer behaves like no active model; recovery retrains

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
        if not self.root.exists():
            return []
        active = self.active_version()
        result = []
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or not (folder / METADATA_FILE).exists():
                continue
            with contextlib.suppress(ValueError, OSError):
                metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
                metadata["active"] = folder.name == active
                result.append(metadata)
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
