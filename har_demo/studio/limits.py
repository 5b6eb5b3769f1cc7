"""What a host allows in the studio; every value can be set from the environment.

HAR_STUDIO_MAX_CLASSES            classes per session (default 8)
HAR_STUDIO_MAX_CLIPS_PER_CLASS    clips per class (default 40)
HAR_STUDIO_MAX_CLIP_SECONDS       seconds per clip (default 10)
HAR_STUDIO_MAX_TRAIN_SECONDS      training time per session, all runs together (default 900)
HAR_STUDIO_MAX_UPLOAD_MB          one uploaded video or zip (default 200)
HAR_STUDIO_MAX_EPOCHS             the most epochs a person may ask for (default 60)
HAR_STUDIO_SESSION_MAX_AGE_S      a session folder older than this is removed (default 6 h)
HAR_STUDIO_SESSION_IDLE_S         a session unused this long is ended, folder and all (default 15 min)
HAR_STUDIO_SESSION_QUOTA_MB       one session's folder on disk (default 300)
HAR_STUDIO_DISK_BUDGET_MB         every session's folders together; the oldest idle go first (default 2048)
HAR_STUDIO_MAX_QUEUE              trainings waiting or running at once, all sessions (default 6)
HAR_STUDIO_TRAIN_SUBPROCESS       train in a child process (default true; false: a thread of the app, as on ZeroGPU)
HAR_STUDIO_TRAIN_NICENESS         the child's OS niceness, 1-19: visitors' predictions get the CPU first (default 5)

Read and checked like the app's HAR_DEMO_* limits (har_demo.host_limits): a finite number above 0,
so 0, negatives and `inf` are refused at start-up with a sentence.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from har_demo.host_limits import LimitError, read_limits

ENV_PREFIX = "HAR_STUDIO_"
MB = 1024 * 1024
MAX_NICENESS = 19  # the lowest priority Linux has


@dataclass(frozen=True)
class StudioLimits:
    max_classes: int = 8
    max_clips_per_class: int = 40
    max_clip_seconds: float = 10.0
    max_train_seconds: float = 900.0
    max_upload_mb: float = 200.0
    max_epochs: int = 60
    session_max_age_s: float = 6 * 3600.0
    session_idle_s: float = 900.0
    session_quota_mb: float = 300.0
    disk_budget_mb: float = 2048.0
    max_queue: int = 6
    train_subprocess: bool = True
    train_niceness: int = 5

    def __post_init__(self) -> None:
        if not 1 <= self.train_niceness <= MAX_NICENESS:
            raise LimitError(
                f"The limit {ENV_PREFIX}TRAIN_NICENESS must be between 1 and {MAX_NICENESS}, not {self.train_niceness!r}."
            )

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * MB)

    @property
    def max_clips(self) -> int:
        return self.max_classes * self.max_clips_per_class

    @property
    def session_quota_bytes(self) -> int:
        return int(self.session_quota_mb * MB)

    @property
    def disk_budget_bytes(self) -> int:
        return int(self.disk_budget_mb * MB)

    @classmethod
    def from_env(cls, environ: dict | None = None) -> StudioLimits:
        """Defaults, overridden by HAR_STUDIO_<FIELD> variables (a bad value is a LimitError at start-up)."""
        return read_limits(cls, ENV_PREFIX, os.environ if environ is None else environ)
