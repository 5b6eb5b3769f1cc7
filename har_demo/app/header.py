"""The top of the page: title, which models are served from where, notices, the synthetic banner."""

from __future__ import annotations

from har_demo.app.context import AppContext
from har_demo.app.engine import Engine
from har_demo.app.text import bundle_label, warning, where
from har_demo.names import display_name

SYNTHETIC_NOTE = (
    "⚠ Weights trained on **synthetic clips**: fine for the examples, often wrong on real "
    "videos. See the **Models** tab for how to serve a UCF50-trained bundle."
)


def header_markdown(engine: Engine) -> str:
    b = engine.bundle
    names = " and ".join(display_name(m) for m in b.model_names)
    trained = "synthetic clips" if b.synthetic else (b.manifest.dataset_name or "?")
    return (
        f"{names} from **{bundle_label(b.manifest.name or b.path.name)}** (`{where(b)}`, trained on {trained}) · "
        f"{len(b.classes)} classes: {', '.join(b.classes)} · running on {engine.device}"
    )


def build_header(ctx: AppContext) -> None:
    import gradio as gr

    from har_demo.app.theme import TITLE

    engine = ctx.default
    gr.Markdown(f"# {TITLE}", elem_id="title")
    header = gr.Markdown(header_markdown(engine), elem_id="header", elem_classes="small-note")
    if engine.notice:
        gr.Markdown(warning(engine.notice), elem_id="notice")
    banner = gr.Markdown(SYNTHETIC_NOTE, elem_id="synthetic-banner", visible=engine.bundle.synthetic)

    def follow(key):
        """A session serving its own bundle (trained or imported in the Train tab) sees it described here."""
        mine = ctx.engine(key)
        return header_markdown(mine), gr.update(visible=mine.bundle.synthetic)

    ctx.session.change(follow, [ctx.session], [header, banner], api_visibility="private", show_progress="hidden")
