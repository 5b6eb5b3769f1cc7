"""What a host allows in the studio; every value can be set from the environment.

HAR_STUDIO_MAX_CLASSES            classes per session (default 8)
HAR_STUDIO_MAX_CLIPS_PER_CLASS    clips per class (default 40)
HAR_STUDIO_MAX_CLIP_SECONDS       seconds per clip (default 10)
HAR_STUDIO_MAX_TRAIN_SECONDS      training time per session, all runs together (default 900)
HAR_STUDIO_MAX_UPLOAD_MB          one uploaded video or zip (default 200)
HAR_STUDIO_MAX_EPOCHS             the most epochs a person may ask for (default 60)
HAR_STUDIO_SESSION_MAX_AGE_S      a session folder older than this is removed (default 6 h)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class StudioLimits:
    max_classes: int = 8
    max_clips_per_class: int = 40
    max_clip_seconds: float = 10.0
    max_train_seconds: float = 900.0
    max_upload_mb: float = 200.0
    max_epochs: int = 60
    session_max_age_s: float = 6 * 3600.0

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_clips(self) -> int:
        return self.max_classes * self.max_clips_per_class

    @classmethod
    def from_env(cls, environ: dict | None = None) -> StudioLimits:
        """Defaults, overridden by HAR_STUDIO_<FIELD> variables (a bad value is an error at start-up)."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            key = f"HAR_STUDIO_{f.name.upper()}"
            if key in environ:
                try:
                    values[f.name] = type(f.default)(float(environ[key]))
                except ValueError:
                    raise ValueError(f"{key} must be a number, not {environ[key]!r}") from None
        return cls(**values)
