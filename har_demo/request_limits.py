"""What one request (and one session) may ask of the server: `Limits`, set by the host, and the
first check every video gets (`check_upload`).

The Gradio app (har_demo.app) and the `timeline` verb refuse the same things in the same words,
so both read them here, in the core. Every field can be set from the environment as
`HAR_DEMO_<FIELD>` (for example `HAR_DEMO_PREDICT_SECONDS=60`, the way a Space sets variables) or
on the command line as `--limit FIELD=VALUE` (`har-demo app --limit max_sessions=2`); docs/app.md
lists them. They are read and checked by har_demo.host_limits, the same rules as the studio's
`HAR_STUDIO_<FIELD>` (studio/limits.py): a finite number above 0, or true/false.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from har_demo.clip import DecodeLimits, VideoError, format_seconds
from har_demo.host_limits import LimitError, read_limits

ENV_PREFIX = "HAR_DEMO_"
MB = 1024 * 1024


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
    max_fps: float = 120.0  # frame rate above which a video is refused (each second costs that many frames)
    max_pixels: int = 4096 * 4096  # pixels per frame above which a video is refused
    max_sessions: int = 32  # browser sessions holding their own models at once (memory decides first)
    session_models_mb: float = 2048  # memory for every session's own models together (estimated before a load)
    session_idle_s: float = 900.0  # a session's own models are freed this long after its last request
    session_hours: float = 4.0  # gradio's own session state (the key) is kept at most this long
    model_max_frames: int = 64  # an imported or Hub model's frames per clip
    model_max_side: int = 256  # its frame height and width
    model_max_channels: int = 3  # its channels per frame
    timeline_batch_mb: float = 96  # input bytes of one timeline batch (windows x frames x pixels x 4)
    live_max_pixels: int = 4096 * 2160  # a live frame larger than this is refused from its header
    hub_local_paths: bool = False  # the Train tab's Hub field may name server folders (a host's own bundles)
    temp_folders: int = 256  # per-request temporary folders kept (oldest removed first)
    temp_max_age_s: float = 3600.0  # and none older than this

    def describe(self) -> str:
        return (
            f"Videos up to {self.max_upload_mb:g} MB; up to {format_seconds(self.predict_seconds)} for a "
            f"prediction and {format_seconds(self.timeline_seconds)} for the timeline."
        )

    def decode_limits(self, max_seconds: float) -> DecodeLimits:
        """What one decode of a video for a task allowed `max_seconds` may cost (clip.read_clip
        and timeline.compute_timeline refuse the rest with a typed VideoError)."""
        return DecodeLimits(max_seconds=max_seconds, max_fps=self.max_fps, max_pixels=int(self.max_pixels))

    @property
    def session_models_bytes(self) -> int:
        return int(self.session_models_mb * MB)

    @classmethod
    def from_settings(cls, env: Mapping[str, str] | None = None, overrides: Iterable[str] = ()) -> Limits:
        """Defaults, then $HAR_DEMO_<FIELD> variables, then `FIELD=VALUE` overrides (command line)."""
        env = os.environ if env is None else env
        values: dict[str, str] = {}
        for item in overrides:
            name, sep, text = item.partition("=")
            if not sep:
                raise LimitError(f"--limit takes FIELD=VALUE, not {item!r}.")
            values[name.strip()] = text.strip()
        return read_limits(cls, ENV_PREFIX, env, values)


def check_upload(path: str | Path | None, limits: Limits) -> Path:
    """Before any decoding: there is a video, and it is not over the upload size. (The container's
    header and the decoding itself are checked by clip.read_clip against `limits.decode_limits`.)"""
    if path is None or str(path).strip() == "":
        raise VideoError("No video yet: upload one, record one with the webcam, or click an example.")
    path = Path(path)
    if path.is_file() and path.stat().st_size > limits.max_upload_mb * 1024 * 1024:
        raise VideoError(
            f"{path.name} is {path.stat().st_size / 2**20:.1f} MB; the limit is {limits.max_upload_mb:g} MB. "
            "Trim or compress it and try again."
        )
    return path


__all__ = ["ENV_PREFIX", "LimitError", "Limits", "check_upload"]
