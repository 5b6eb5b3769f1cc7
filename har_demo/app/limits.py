"""The app's name for the host's limits; they live in the core (har_demo.request_limits), where
the `timeline` verb reads them too."""

from __future__ import annotations

from har_demo.request_limits import ENV_PREFIX, MB, LimitError, Limits

__all__ = ["ENV_PREFIX", "MB", "LimitError", "Limits"]
