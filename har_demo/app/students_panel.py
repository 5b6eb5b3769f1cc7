""" "How these models see a video": plain words for students, with numbers from the models' own layer tables."""

from __future__ import annotations

from har_demo.app.context import AppContext
from har_demo.names import display_name


def _params(table: list[dict]) -> int:
    return sum(row["params"] for row in table)


def _maps(table: list[dict], kind: str) -> list[str]:
    return [f"{row['output_shape'][2]}×{row['output_shape'][3]}" for row in table if kind in row["type"]]


def students_markdown(tables: dict[str, list[dict]], frames: int, height: int, width: int, classes: list[str]) -> str:
    """The panel's text; every number comes from the served models (tables: har_demo.models.layer_table)."""
    lines = [
        f"**What goes in.** A video is cut down to **{frames} frames**, taken at even steps through the clip, and each "
        f"frame is shrunk to **{height}×{width} pixels** (colour). That is all a model ever sees: {frames} small "
        "pictures in order. It cannot hear, and fine details (a hand, a ball) are a few pixels at most.",
    ]
    if "lrcn" in tables:
        t = tables["lrcn"]
        lines.append(
            f"**{display_name('lrcn')}** (Long-term Recurrent Convolutional Network, {_params(t):,} numbers learned) "
            "looks at **each frame on its own first**: a small image network shrinks every frame step by step "
            f"(feature maps {' → '.join(_maps(t, 'Conv2D'))}) into a short list of numbers, and only then an LSTM reads "
            "those lists **in order**, one frame after the other, remembering what came before. Think: *describe "
            "each photo, then read the descriptions as a story*."
        )
    if "convlstm" in tables:
        t = tables["convlstm"]
        lines.append(
            f"**{display_name('convlstm')}** ({_params(t):,} numbers learned) mixes **space and time in every layer**: "
            "each ConvLSTM layer looks at small neighbourhoods of pixels *and* remembers how they changed since the "
            f"last frame (maps {' → '.join(_maps(t, 'ConvLSTM2D'))}). Think: *watch the film and notice where things move*."
        )
    lines.append(
        "**Why they can disagree.** They learned different things from the same training clips: LRCN leans on what "
        "single frames look like (a horse, a swing frame), ConvLSTM more on how pixels move. Both always answer with "
        f"one of the {len(classes)} activities they were trained on ({', '.join(classes)}), even for something else, "
        "and a high percentage means *sure*, not *right*. The Predict tab's heat maps show where each one looked."
    )
    return "\n\n".join(lines)


def build_students_panel(ctx: AppContext) -> None:
    """An open accordion with the text and the two models' layers as a figure."""
    import gradio as gr

    from har_demo.explain_plots import architecture_figure
    from har_demo.models import layer_table

    engine = ctx.default
    tables = {name: layer_table(model) for name, model in engine.bundle.models.items()}
    s = engine.settings
    with gr.Accordion("How these models see a video", open=True, elem_id="how-models-see"):
        gr.Markdown(students_markdown(tables, s.frames, s.height, s.width, engine.classes))
        gr.Plot(architecture_figure(tables), show_label=False, elem_id="architecture")
