"""Which process a temporary folder belongs to, whether that process still runs, and what the folder
holds: how the app and the studio remove only what a dead server of theirs left behind."""

from __future__ import annotations

import json
import os
from pathlib import Path


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        return None


def owner_record() -> str:
    """What a marker file holds: this process's pid and start time."""
    return json.dumps({"pid": os.getpid(), "started": process_start(os.getpid())})


def alive(pid: int, started: str | None) -> bool:
    """True while the process `pid` that started at `started` (process_start) still runs."""
    if Path("/proc/self").exists():
        now = process_start(pid)
        return now is not None and (started is None or now == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def folder_bytes(folder: Path) -> int:
    """Bytes of every file under `folder` (links counted as links), files that vanish meanwhile skipped."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total
