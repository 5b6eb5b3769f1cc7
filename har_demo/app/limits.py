"""What one request (and one session) may ask of the server: `Limits`, set by the host.

Every field can be set from the environment as `HAR_DEMO_<FIELD>` (for example
`HAR_DEMO_PREDICT_SECONDS=60`, the way a Space sets variables) or on the command line as
`--limit FIELD=VALUE` (`har-demo app --limit max_sessions=2`); docs/app.md lists them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace

from har_demo.app.text import fmt_duration

ENV_PREFIX = "HAR_DEMO_"


class LimitError(ValueError):
    """A limit setting that is not a field of Limits or not a number."""


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server. Stated on the page and in docs/app.md."""

    max_upload_mb: float = 200  # also Gradio's max_file_size, so bigger uploads never arrive
    predict_seconds: float = 120.0  # longest video for a prediction (2 minutes)
    timeline_seconds: float = 600.0  # longest video for the timeline (10 minutes)
    min_window_s: float = 1.0
    max_window_s: float = 20.0
    min_stride_s: float = 0.25
    max_stride_s: float = 10.0
    fallback_fps: float = 60.0  # bound on decoding when a file does not state its frame rate
    max_sessions: int = 4  # browser sessions holding their own models (a studio run, an upload) at once
    session_hours: float = 4.0  # a session's own models are dropped this long after its last change
    temp_folders: int = 256  # per-request temporary folders kept (oldest removed first)
    temp_max_age_s: float = 3600.0  # and none older than this

    def describe(self) -> str:
        return (
            f"Videos up to {self.max_upload_mb:g} MB; up to {fmt_duration(self.predict_seconds)} for a "
            f"prediction and {fmt_duration(self.timeline_seconds)} for the timeline."
        )

    @classmethod
    def from_settings(cls, env: Mapping[str, str] | None = None, overrides: Iterable[str] = ()) -> Limits:
        """Defaults, then $HAR_DEMO_<FIELD> variables, then `FIELD=VALUE` overrides (command line)."""
        env = os.environ if env is None else env
        values: dict[str, str] = {}
        for f in fields(cls):
            if (text := env.get(ENV_PREFIX + f.name.upper(), "").strip()) != "":
                values[f.name] = text
        for item in overrides:
            name, sep, text = item.partition("=")
            if not sep:
                raise LimitError(f"--limit takes FIELD=VALUE, not {item!r}.")
            values[name.strip()] = text.strip()
        return cls().with_values(values)

    def with_values(self, values: Mapping[str, str]) -> Limits:
        kinds = {f.name: f.type for f in fields(self)}
        parsed = {}
        for name, text in values.items():
            if name not in kinds:
                raise LimitError(f"There is no limit called {name!r}; the limits are {', '.join(kinds)}.")
            number = int if kinds[name] in (int, "int") else float
            try:
                parsed[name] = number(text)
            except ValueError as exc:
                raise LimitError(
                    f"The limit {name} must be a{'n integer' if number is int else ' number'}, not {text!r}."
                ) from exc
            if not parsed[name] > 0:
                raise LimitError(f"The limit {name} must be above 0, not {text!r}.")
        return replace(self, **parsed)
