"""Per-session studio folders: made on first use, removed when the session ends or grows old.

Each folder carries a marker file; the sweep removes only folders with the marker, so nothing
the studio did not make is ever deleted, whatever else lives under the base folder.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

from har_demo.studio.classset import ClassSet
from har_demo.studio.limits import StudioLimits

MARKER = ".har-studio-session"
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


class StudioSessions:
    """The class sets of every browser session of one process."""

    def __init__(self, base: Path | None = None, limits: StudioLimits | None = None) -> None:
        self.limits = limits or StudioLimits.from_env()
        self.base = Path(base) if base else Path(tempfile.gettempdir()) / "har-studio"
        self.base.mkdir(parents=True, exist_ok=True)
        self._sets: dict[str, ClassSet] = {}
        self._lock = threading.Lock()

    def folder(self, session_id: str) -> Path:
        if not SESSION_ID.match(session_id or ""):
            raise ValueError(f"not a usable session id: {session_id!r}")
        return self.base / session_id

    def class_set(self, session_id: str) -> ClassSet:
        """This session's set, made on first use; every use counts as activity for the age limit."""
        with self._lock:
            folder = self.folder(session_id)
            if session_id not in self._sets or not folder.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
                self._sets[session_id] = ClassSet(folder, self.limits)
            (folder / MARKER).touch()
            return self._sets[session_id]

    def end(self, session_id: str) -> None:
        """The browser session ended: its folder goes."""
        with self._lock:
            self._sets.pop(session_id, None)
            folder = self.folder(session_id)
            if (folder / MARKER).is_file():
                shutil.rmtree(folder, ignore_errors=True)

    def sweep(self, now: float | None = None) -> list[str]:
        """Remove session folders unused for longer than the limit; returns their ids."""
        now = time.time() if now is None else now
        removed = []
        for folder in self.base.iterdir() if self.base.is_dir() else []:
            marker = folder / MARKER
            if folder.is_dir() and marker.is_file() and now - marker.stat().st_mtime > self.limits.session_max_age_s:
                self.end(folder.name)
                removed.append(folder.name)
        return removed
