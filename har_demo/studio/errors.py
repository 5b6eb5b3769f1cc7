"""What the studio refuses. Each is a type (callers never match message text); messages are for people."""

from __future__ import annotations


class StudioError(ValueError):
    """Anything the studio refuses; nothing was changed when it is raised."""


class NameRefused(StudioError):
    """A class name that cannot be a folder name in the UCF layout."""


class ClipRefused(StudioError):
    """An uploaded or recorded file that is not a usable clip (not a video, too long, too big)."""


class LimitReached(StudioError):
    """A host limit (classes, clips per class, upload size, training time) would be exceeded."""


class ArchiveRefused(StudioError):
    """A zip that is unsafe or not a UCF-layout class set."""


class TrainingRefused(StudioError):
    """A training that cannot start (too few clips or classes, another one of this session running)."""
