"""The Train tab's clip-set actions: classes, recordings, uploads, the zip, delete, the banner, Next person.

Plain functions of the per-process `StudioState`, this session's studio id and the page's inputs;
each returns the outputs the tab wires them to (studio_tab.py only lays out and wires). The clip
set itself is har_demo/studio (no gradio there); the training actions are in studio_training.py.

No gradio here either: an output is a plain value, `KEEP` (leave it as it is), a `Dropdown` (its
value and choices) or a `Shown` (its visibility); studio_tab.py turns the last three into gr.update.
Most actions return `listed`: (studio id, status, counts, gallery items, the class `Dropdown`).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from har_demo.app.engine import predictions_waiting
from har_demo.app.session_models import (
    SessionRefused,
    back_to_shipped,
    import_files,
    serve_reference,
    session_owner,
)
from har_demo.app.studio_camera import LEAD_SECONDS, clip_length_range
from har_demo.app.studio_lesson import banner, counts_and_warnings
from har_demo.studio.archive import export_zip, import_zip
from har_demo.studio.errors import StudioError
from har_demo.studio.limits import StudioLimits
from har_demo.studio.recording import trim_recording
from har_demo.studio.sessions import StudioSessions
from har_demo.studio.trainer import StudioTrainer


class Keep(Enum):
    """The type of `KEEP`: an output the action leaves as the page has it (None would clear it)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class Dropdown:
    """A dropdown's new value, and its new choices (None: the choices it has)."""

    value: str | None
    choices: list[str] | None = None


@dataclass(frozen=True)
class Shown:
    """Whether a component shows, and its new value (`KEEP`: the value it has)."""

    visible: bool
    value: Any = KEEP


class StudioState:
    """What the tab keeps per process: the sessions' class sets, the trainer, jobs and last bundles."""

    def __init__(self, limits: StudioLimits | None = None, base: Path | None = None) -> None:
        self.limits = limits or StudioLimits.from_env()
        self.sessions = StudioSessions(base, self.limits)
        self.trainer = StudioTrainer(self.limits, yield_to=predictions_waiting)  # visitors' predictions first
        self.jobs: dict[str, Any] = {}
        self.bundles: dict[str, Path] = {}
        self._lock = threading.Lock()

    def end(self, studio_id: str | None) -> None:
        if studio_id:
            job = self.jobs.pop(studio_id, None)
            if job is not None:
                job.end()  # its child process too, not after the batch: the folder goes next
            self.bundles.pop(studio_id, None)
            self.sessions.end(studio_id)


def session_id(studio_id: str | None) -> str:
    """This session's studio id: the gradio session hash when there is one (the unload event ends it)."""
    return studio_id or session_owner() or uuid.uuid4().hex


def file_path(file) -> str:
    """A gr.File value's path (an object with `.name` or a plain path)."""
    return getattr(file, "name", file)


def clip_gallery(class_set) -> tuple[list, str]:
    """Thumbnails with captions, and the counts line."""
    clips = class_set.clips()
    items = [(str(c.thumbnail), f"{c.label} · g{c.group:02d} · {c.name}") for c in clips if c.thumbnail.is_file()]
    return items, counts_and_warnings(class_set)  # clips and people per class, and what to fix first


def refreshed(state: StudioState, sid: str, message: str = "") -> tuple:
    """`listed` for session `sid`: its clips as they are now, with `message` as the status."""
    class_set = state.sessions.class_set(sid)
    items, count_text = clip_gallery(class_set)
    choices = class_set.classes
    return sid, message, count_text, items, Dropdown(choices[-1] if choices else None, choices)


def add_class(state: StudioState, sid: str | None, name: str | None) -> tuple:
    """`listed`, then the new-class box's value (cleared once the class is added)."""
    sid = session_id(sid)
    try:
        added = state.sessions.class_set(sid).add_class(name)
    except StudioError as exc:  # nothing changed: the chosen class stays chosen, the typed name stays
        return *refreshed(state, sid, f"⚠ {exc}")[:4], KEEP, KEEP
    out = refreshed(state, sid, f"Added class **{added}**.")
    return *out[:4], Dropdown(added, out[4].choices), ""


def add_clips(state: StudioState, sid: str | None, label: str | None, group, paths, recorded: float | None) -> tuple:
    """Add clips to class `label`; `recorded`: the length to cut webcam recordings to (None for uploads)."""
    sid = session_id(sid)
    class_set = state.sessions.class_set(sid)
    if not label:
        return refreshed(state, sid, "⚠ Add a class first, then choose it for the new clips.")
    messages, added = [], 0
    for path in paths:
        try:
            state.sessions.make_room(sid, Path(path).stat().st_size, state.trainer.busy)  # before writing
            if recorded:
                scratch = Path(tempfile.mkdtemp(dir=class_set.folder, prefix=".rec-"))  # ours alone, removed below
                trimmed = scratch / "recording.webm"
                try:
                    trim_recording(path, trimmed, recorded, lead=LEAD_SECONDS)
                    class_set.add_clip(label, trimmed, group)
                finally:
                    shutil.rmtree(scratch, ignore_errors=True)
                added += 1
            else:  # a long video becomes several clips; a UCF name keeps its group
                result = class_set.add_video(label, path, group)
                added += len(result.clips)
                if result.note:
                    messages.append(result.note)
        except (StudioError, ValueError) as exc:
            messages.append(f"⚠ {Path(path).name}: {exc}")
    head = f"Added {added} clip{'s' if added != 1 else ''} to **{label}**." if added else ""
    out = refreshed(state, sid, "  \n".join([head, *messages]).strip())
    return *out[:4], Dropdown(label)


def add_recording(state: StudioState, sid: str | None, label: str | None, group, seconds, video) -> tuple:
    """A webcam recording, cut to `seconds` (within the page's range); `listed`, then the cleared webcam."""
    if not video:
        return *refreshed(state, session_id(sid), "⚠ Record a clip first."), None
    shortest, longest, default_seconds = clip_length_range(state.limits.max_clip_seconds)
    seconds = min(max(float(seconds or default_seconds), shortest), longest)
    return *add_clips(state, sid, label, group, [video], seconds), None


def add_uploads(state: StudioState, sid: str | None, label: str | None, group, files) -> tuple:
    """Uploaded videos; `listed`, then the cleared upload box."""
    if not files:
        return *refreshed(state, session_id(sid), "⚠ Choose video files first."), None
    return *add_clips(state, sid, label, group, [file_path(f) for f in files], None), None


def select_clip(state: StudioState, sid: str | None, index: int | None) -> tuple[str, str] | None:
    """(class, clip name) of the gallery's `index`-th thumbnail, or None."""
    clips = [c for c in state.sessions.class_set(session_id(sid)).clips() if c.thumbnail.is_file()]
    if index is None or not 0 <= index < len(clips):
        return None
    return (clips[index].label, clips[index].name)


def delete_clip(state: StudioState, sid: str | None, chosen) -> tuple:
    """Delete the selected clip; `listed`, then the cleared selection."""
    sid = session_id(sid)
    if not chosen:
        return *refreshed(state, sid, "⚠ Click a clip's thumbnail first."), None
    try:
        state.sessions.class_set(sid).delete_clip(*chosen)
    except StudioError as exc:
        return *refreshed(state, sid, f"⚠ {exc}"), None
    return *refreshed(state, sid, f"Deleted {chosen[1]}."), None


def export_clips(state: StudioState, sid: str | None) -> tuple[str, str]:
    """(studio id, the zip of this session's clips), written in the session's own folder."""
    sid = session_id(sid)
    class_set = state.sessions.class_set(sid)
    out = Path(tempfile.mkdtemp(dir=class_set.folder, prefix=".zip-")) / "studio_clips.zip"
    return sid, str(export_zip(class_set, out))


def import_clips(state: StudioState, sid: str | None, file) -> tuple:
    """A clip set's zip (UCF layout) added to the session's; `listed`, then the cleared zip box."""
    sid = session_id(sid)
    if not file:
        return *refreshed(state, sid), None
    try:
        state.sessions.make_room(sid, Path(file_path(file)).stat().st_size, state.trainer.busy)
        report = import_zip(state.sessions.class_set(sid), file_path(file))
    except StudioError as exc:
        return *refreshed(state, sid, f"⚠ {exc} Your clips are unchanged."), None
    return *refreshed(state, sid, report.sentence()), None


def banner_text(state: StudioState, sid: str | None, label: str | None, group) -> str:
    """Which class and person the next clip goes to (before the session has clips: the first person)."""
    return banner(state.sessions.class_set(session_id(sid)), label, group) if sid else banner(None, None, 1)


def next_person(state: StudioState, sid: str | None) -> tuple[str, int]:
    """(studio id, the next free group number): the next person records as a new group."""
    sid = session_id(sid)
    return sid, state.sessions.class_set(sid).next_group()


def import_models(registry, folder: Path, key: str | None, files, classes_text: str | None) -> tuple:
    """Serve one or two tutorial .h5/.keras files in this session: (engine key, status sentence)."""
    names = [c.strip() for c in (classes_text or "").split(",") if c.strip()]
    if not files:
        return key, "⚠ Choose one or two .h5/.keras files."
    if len(names) < 2:
        return key, "⚠ Give the class names the model was trained on, comma-separated, in output order."
    paths = [Path(file_path(f)) for f in files[:2]]
    try:
        new_key = import_files(registry, folder, paths, names, key)
    except SessionRefused as exc:
        return key, f"⚠ {exc}"
    return new_key, f"Serving the imported models for {', '.join(names)} in this session."


def serve_hub(registry, key: str | None, ref: str | None) -> tuple:
    """Serve a Hub bundle OWNER/NAME[@REVISION] in this session: (engine key, status sentence)."""
    if not (ref or "").strip():
        return key, "⚠ Give a Hub bundle as OWNER/NAME or OWNER/NAME@REVISION."
    try:
        return serve_reference(registry, ref, key), f"Serving {ref.strip()} in this session."
    except SessionRefused as exc:
        return key, f"⚠ {exc}"


def back(registry, key: str | None) -> tuple:
    """Back to the shipped models: (engine key, status sentence)."""
    return back_to_shipped(registry, key)
