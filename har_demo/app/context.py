"""`AppContext`: what every `build_<tab>_tab(ctx)` gets from `build_demo`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from har_demo.app.engine import Engine, EngineRegistry
from har_demo.app.media import TempFiles
from har_demo.request_limits import Limits


@dataclass
class AppContext:
    """The registry of engines, the session key's `gr.State`, the temp files, the limits, and the
    components one tab shares with others (`components["video"]`: the Predict tab's video input)."""

    registry: EngineRegistry
    session: Any  # gr.State holding this browser session's engine key (None: the default engine)
    temp: TempFiles
    limits: Limits
    components: dict[str, Any] = field(default_factory=dict)

    @property
    def default(self) -> Engine:
        """The served bundle's engine (what the page is built for, and what sessions start with)."""
        return self.registry.default

    def engine(self, key: str | None) -> Engine:
        """This session's engine; if its own models were evicted or freed, the page is told so once."""
        notice = self.registry.take_notice(key)
        if notice:
            import gradio as gr

            gr.Warning(notice)
        return self.registry.get(key)
