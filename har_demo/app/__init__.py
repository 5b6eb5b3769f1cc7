"""The Gradio app: `build_demo` assembles the page from one module per tab.

    har_demo/app/
      serve.py              create_demo / launch_options / run: load the bundle, build, queue, launch
      engine.py             Engine (a predictor behind one lock) and EngineRegistry (session key -> Engine)
      media.py              TempFiles (per-request folders), previews, codec checks
      context.py            AppContext, what every tab builder gets
      header.py, theme.py   the top of the page; theme, CSS, JS
      examples.py           the example clips the page offers
      <name>_tab.py         one tab each: its logic functions AND build_<name>_tab(ctx)

The tab contract:

- A tab is a module `har_demo/app/<name>_tab.py` with `build_<name>_tab(ctx: AppContext) -> None`,
  called inside `gr.Tabs()`; it opens its own `gr.Tab(...)`. Adding a tab is adding its name to
  `TABS` below (one line).
- The tab's logic lives in plain functions of plain inputs in the same module (no Gradio there,
  testable without a browser); its handlers are thin calls into them.
- A handler never closes over an Engine: it takes `ctx.session` (a `gr.State` holding the session
  key, None for the default) as an input and calls `ctx.engine(key)`. To give one browser session
  its own models (a studio run, an uploaded .h5), `key = ctx.registry.add(bundle_or_predictor)` and
  return the key into `ctx.session`; it is dropped when the session ends. State holds the key,
  never the Engine (Gradio deep-copies State values).
- Files for the page are written with `ctx.temp` (a new folder per request: never rewritten while
  a response streams it), never served from the bundle folder; limits come from `ctx.limits`.
- Components other tabs may use go into `ctx.components` (the Predict tab puts its "video" there);
  a tab that needs one is listed after the tab that makes it.
- The core (`har_demo.*` outside app/ and training/) never imports this package; this package
  imports `har_demo.training` only lazily, inside the handler that needs it.
"""

from __future__ import annotations

from importlib import import_module

from har_demo.app.context import AppContext
from har_demo.app.engine import Engine, EngineRegistry
from har_demo.app.media import TempFiles
from har_demo.request_limits import Limits

# The tabs, in page order: each names har_demo/app/<name>_tab.py and its build_<name>_tab(ctx).
TABS: tuple[str, ...] = ("predict", "live", "timeline", "misclassified", "models", "studio")
# The handlers offered in the API docs and as MCP tools (a tool is named after its handler): what a
# person or an assistant calls. Every other named endpoint (the live stream's per-frame handler, the
# page's filters and refreshes) stays callable by gradio_client but undocumented, so MCP leaves it out.
TOOLS: tuple[str, ...] = ("predict_video", "timeline", "explain", "annotate", "rejudge")
# Kept: gradio 6 warns of any tool's gr.State input; its default (None: our bundle) is right, a gr.api copy is worse
STATE_TOOL_WARNING = "This MCP server includes a tool that has a gr.State input"


def tab_builder(name: str):
    return getattr(import_module(f"har_demo.app.{name}_tab"), f"build_{name}_tab")


def build_demo(
    engine_or_registry: Engine | EngineRegistry, temp: TempFiles | None = None, tabs: tuple[str, ...] = TABS
):
    """The whole page: the header, then every tab of `tabs`; returns the gr.Blocks (not launched)."""
    import gradio as gr

    from har_demo.app.header import build_header
    from har_demo.app.session_models import end_session
    from har_demo.app.theme import TITLE

    registry = (
        engine_or_registry if isinstance(engine_or_registry, EngineRegistry) else EngineRegistry(engine_or_registry)
    )
    limits: Limits = registry.limits
    temp = temp or TempFiles(max_age_s=limits.temp_max_age_s, max_folders=limits.temp_folders)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(1800, 3600)) as demo:
        session = gr.State(None, time_to_live=limits.session_hours * 3600, delete_callback=registry.drop)
        ctx = AppContext(registry=registry, session=session, temp=temp, limits=limits)
        build_header(ctx)
        with gr.Tabs(overflow_behavior="wrap"):
            for name in tabs:
                tab_builder(name)(ctx)
        # the page went away: its own models and studio folder go now (gradio's State waits an hour)
        demo.unload(lambda: end_session(registry, ctx.components.get("studio")))
    document_only_tools(demo)
    demo.app_context = ctx  # for tests and for serve (the registry, the temp folder)
    return demo


def document_only_tools(demo, tools: tuple[str, ...] = TOOLS) -> None:
    """Public endpoints whose handler is not one of `tools` become undocumented (still callable)."""
    import warnings

    for fn in demo.fns.values():
        name = getattr(fn.fn, "__name__", None)
        if fn.api_visibility == "public" and name not in tools:
            fn.api_visibility = "undocumented"
    warnings.filterwarnings("ignore", message=STATE_TOOL_WARNING, category=UserWarning)


__all__ = [
    "TABS",
    "TOOLS",
    "AppContext",
    "Engine",
    "EngineRegistry",
    "TempFiles",
    "build_demo",
    "tab_builder",
]
