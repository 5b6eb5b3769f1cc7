"""Per-session studio folders: made on first use, removed when the session ends or grows old.

Each folder carries a marker file (the owning process's pid; its mtime is the session's last
activity); only folders with the marker are ever removed, so nothing the studio did not make is
deleted, whatever else lives under the base folder. Folders of processes that are gone (killed,
SIGTERM) are removed when the next studio starts; `end_all` removes this process's at SIGTERM.
Disk is bounded twice before anything is written: a quota per session, and a budget for all
sessions together that removes the oldest idle sessions first (`make_room`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from har_demo.owner import alive, folder_bytes, owner_record
from har_demo.studio.classset import ClassSet
from har_demo.studio.errors import LimitReached
from har_demo.studio.limits import StudioLimits

_LIVE: list[StudioSessions] = []
SWEEP_EVERY_S = 60.0

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
        self._swept = time.monotonic()
        self.remove_orphans()
        _LIVE.append(self)

    def folder(self, session_id: str) -> Path:
        if not SESSION_ID.match(session_id or ""):
            raise ValueError(f"not a usable session id: {session_id!r}")
        return self.base / session_id

    def class_set(self, session_id: str) -> ClassSet:
        """This session's set, made on first use; every use counts as activity for the age limit."""
        if time.monotonic() - self._swept > SWEEP_EVERY_S:
            self._swept = time.monotonic()
            self.sweep()
        with self._lock:
            folder = self.folder(session_id)
            if session_id not in self._sets or not folder.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
                (folder / MARKER).write_text(owner_record())
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

    def end_all(self) -> None:
        """Remove every session folder of this process (SIGTERM: the server is going away)."""
        for session_id in list(self._sets):
            self.end(session_id)

    def remove_orphans(self) -> list[str]:
        """Remove the session folders of studio processes that are gone; returns their ids."""
        removed = []
        for folder in self._session_folders():
            try:
                owner = json.loads((folder / MARKER).read_text() or "{}")
                pid, started = int(owner["pid"]), owner.get("started")
            except (OSError, ValueError, KeyError, TypeError):
                continue  # an older marker without a pid: the age sweep handles it
            if pid != os.getpid() and not alive(pid, started):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        return removed

    # ------------------------------------------------------------------ disk
    def used_bytes(self, session_id: str) -> int:
        return folder_bytes(self.folder(session_id))

    def make_room(self, session_id: str, incoming: int, busy: Callable[[str], bool] = lambda _sid: False) -> None:
        """Refuse (LimitReached) or make room for `incoming` bytes of this session, before they are written.

        The session's own quota is never exceeded; when all sessions together would exceed the
        server's budget, the sessions idle longest (not this one, none training) are removed first.
        """
        limits = self.limits
        mine = self.used_bytes(session_id)
        if mine + incoming > limits.session_quota_bytes:
            raise LimitReached(
                f"This session's clips would take {(mine + incoming) / 2**20:,.0f} MB, over the "
                f"{limits.session_quota_mb:g} MB each session may keep on this server. Delete some clips first."
            )
        sizes = {f.name: folder_bytes(f) for f in self._session_folders()}
        total = sum(sizes.values())
        if total + incoming <= limits.disk_budget_bytes:
            return
        now = time.time()
        idle = sorted(
            (f for f in self._session_folders() if f.name != session_id and not busy(f.name)),
            key=lambda f: _mtime(f / MARKER),
        )
        for folder in idle:
            if now - _mtime(folder / MARKER) < limits.session_idle_s or total + incoming <= limits.disk_budget_bytes:
                break
            self.end(folder.name)
            total -= sizes.get(folder.name, 0)
        if total + incoming > limits.disk_budget_bytes:
            raise LimitReached(
                "The server's disk for studio clips is full just now (every group's clips together); "
                "try again in a few minutes, when a group has finished."
            )

    def _session_folders(self) -> list[Path]:
        try:
            return [f for f in self.base.iterdir() if f.is_dir() and (f / MARKER).is_file()]
        except OSError:
            return []


def end_all_sessions() -> None:
    """Remove the session folders of every StudioSessions of this process (for SIGTERM)."""
    for sessions in list(_LIVE):
        sessions.end_all()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
