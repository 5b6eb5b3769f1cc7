"""Predict tab additions: the honest verdict with its threshold slider, and "What did the models look at?".

`verdict_from_result` re-judges a prediction's JSON at another threshold (no model call);
`explain_video` decodes the clip like Predict does and returns Grad-CAM strips, frame-importance
bars and, for the attention head, its weights per frame (har_demo.explain).
`build_verdict_controls` / `build_explain_panel` lay them out and wire them; the Predict tab calls
them (two lines there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from har_demo.app.context import AppContext
from har_demo.app.engine import Engine
from har_demo.app.media import TempFiles
from har_demo.app.model_slots import overflow_note, slot_models
from har_demo.app.text import warning
from har_demo.clip import VideoError, read_clip
from har_demo.names import PRETRAINED_NAMES, display_name
from har_demo.request_limits import check_upload
from har_demo.verdict import DEFAULT_THRESHOLD, check_threshold, judge

EXPLAIN_NOTE = (
    "**Heat maps (Grad-CAM):** red = the parts of each frame that pushed the model towards its answer most, "
    "at the resolution of the model's feature maps (ConvLSTM 29×29, LRCN 16×16 per frame: coarse). "
    "**Frame importance:** each bar is how much the model's top probability drops when that frame is replaced "
    "by its neighbour; near 0 = the model could do without it. "
    "**A bar below zero:** the model was *more* sure of its answer without that frame: the frame "
    "pulled it towards another activity."
)
ATTENTION_NOTE = (
    "**Attention weights** (the attention head only): this head does not read the frames in order like an "
    "LSTM. It gives every frame a weight, adds the frames' features up with those weights, and answers from "
    "that sum. A tall bar = that frame counts for more in the answer; the weights add up to 100%, and the "
    "dashed line is an equal share. They show what the head leaned on, not whether it needed it: "
    "frame importance beside them tests that by replacing each frame."
)
NO_GRADCAM = (
    "**{name}** explains *{label}* ({probability:.0%}) with frame importance only: its ImageNet encoder is "
    "one frozen block, so there is no heat map of its own to draw."
)


def colour_legend_html(stops: int = 9) -> str:
    """The Grad-CAM colours from none to most (the same JET map har_demo.explain blends on), as a bar with words."""
    import cv2

    ramp = cv2.applyColorMap(np.linspace(0, 255, stops).astype(np.uint8).reshape(-1, 1), cv2.COLORMAP_JET)
    colours = ", ".join(f"rgb({r},{g},{b})" for b, g, r in ramp[:, 0])
    return (
        '<div id="cam-legend-box" style="max-width: 520px;">'
        '<div style="font-weight: 600;">Heat map colours</div>'
        f'<div id="cam-legend-bar" style="height: 16px; border-radius: 4px; background: linear-gradient(to right, {colours});"></div>'
        '<div style="display: flex; justify-content: space-between; gap: 8px; font-size: 0.9rem;">'
        "<span>blue or no tint: no part in the answer</span><span>red: pushed it most</span></div></div>"
    )


def honest_verdict(classes: list[str], probabilities: dict[str, np.ndarray], threshold: float) -> str:
    """The verdict's markdown for the page."""
    return judge(classes, probabilities, threshold).markdown()


def verdict_from_result(result: dict | None, threshold: float) -> str:
    """Re-judge the last prediction (the Predict tab's JSON) at a new threshold."""
    if not result or "models" not in result:
        return ""
    threshold = check_threshold(threshold)
    classes = list(result["classes"])
    probabilities = {
        m: np.array([info["probabilities"][c] for c in classes], np.float32) for m, info in result["models"].items()
    }
    return honest_verdict(classes, probabilities, threshold)


@dataclass
class ExplainView:
    ok: bool
    message: str = ""
    strips: dict[str, np.ndarray] = field(default_factory=dict)  # model -> RGB image
    figure: Any = None
    attention: Any = None  # the attention head's weights per frame, when the bundle has that head


def explain_video(engine: Engine, path, temp: TempFiles | None = None) -> ExplainView:
    """Grad-CAM strips and frame importance for the video Predict analyses (same decoding, same limits)."""
    from har_demo.explain_plots import attention_figure, explanation_strip, frame_importance_figure

    limits = engine.limits
    if temp is not None and path:
        path = temp.original_of(path)
    try:
        path = check_upload(path, limits)
        clip = read_clip(path, engine.settings, limits=limits.decode_limits(limits.predict_seconds))
    except VideoError as exc:
        return ExplainView(ok=False, message=warning(str(exc)))
    explanation = engine.explain(clip.frames)
    rgb = clip.rgb()
    strips = {m: explanation_strip(rgb, s) for m, s in explanation.saliency.items()}
    lines = []
    for m, imp in explanation.importance.items():
        s = explanation.saliency.get(m)
        if s is not None:
            lines.append(f"**{display_name(m)}** explains *{s.label}* ({s.probability:.0%}) at its layer `{s.layer}`.")
        else:
            lines.append(NO_GRADCAM.format(name=display_name(m), label=imp.label, probability=imp.probability))
    notes = [EXPLAIN_NOTE, ATTENTION_NOTE if explanation.attention else ""]
    overflow = overflow_note(list(strips), "heat maps")
    message = "\n\n".join(p for p in [*lines, *notes, overflow, f"Explained in {explanation.seconds:.1f} s."] if p)
    attention = attention_figure(explanation.attention, clip.times) if explanation.attention else None
    return ExplainView(True, message, strips, frame_importance_figure(explanation.importance, clip.times), attention)


def strip_label(model: str) -> str:
    return f"{display_name(model)}: Grad-CAM on the frames"


def slot_updates(view: ExplainView) -> list:
    """One gr.Image update per slot: the heat-map strips in the bundle's model order, labelled with
    their model; the slots left over hidden."""
    import gradio as gr

    updates = []
    for model in slot_models(list(view.strips)):
        if model is None:
            updates.append(gr.Image(value=None, visible=False))
        else:
            updates.append(gr.Image(value=view.strips[model], label=strip_label(model), visible=True))
    return updates


def attention_update(view: ExplainView):
    """The attention chart beside frame importance: shown only for a bundle with the attention head."""
    import gradio as gr

    return gr.Plot(value=view.attention, visible=view.attention is not None)


def threshold_slider() -> Any:
    """The verdict's confidence threshold, placed where it is called (under the verdict)."""
    import gradio as gr

    return gr.Slider(
        0.0,
        1.0,
        value=DEFAULT_THRESHOLD,
        step=0.05,
        label="'Sure' threshold: below it a model says it is not sure",
        elem_id="threshold",
    )


def wire_verdict(threshold, verdict, raw) -> None:
    """Moving the threshold, or a new result, re-judges the last result (endpoint /verdict)."""
    import gradio as gr

    def rejudge(result: dict | None, sure: float) -> str:
        """The verdict of the last prediction at another confidence threshold, without running the models.

        Args:
            result: the JSON a predict_video call returned.
            sure: the confidence threshold, 0-1: below it a model says it is not sure.
        Returns:
            the verdict in words (markdown): what each model says and whether they agree.
        """
        try:
            return verdict_from_result(result, sure)
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc

    threshold.change(rejudge, inputs=[raw, threshold], outputs=[verdict], api_name="verdict", show_progress="hidden")
    raw.change(rejudge, inputs=[raw, threshold], outputs=[verdict], api_visibility="private", show_progress="hidden")
    return threshold


def build_explain_panel(ctx: AppContext, video) -> None:
    """An accordion: button -> Grad-CAM strip per model, frame-importance bars and, for the attention
    head, its weights beside them; what they mean (/explain). The strips fill model_slots' fixed slots
    in the served bundle's model order (a session's bundle may hold other models than the page's)."""
    import gradio as gr

    # Laid out for the page's own bundle; each answer relabels the slots for the session's bundle.
    first = slot_models([m for m in ctx.default.bundle.model_names if m not in PRETRAINED_NAMES])
    with gr.Accordion("What did the models look at?", open=False, elem_id="explain"):
        button = gr.Button("Explain this clip", elem_id="explain-button")
        note = gr.Markdown(elem_id="explain-note", label="What the explanation shows")
        gr.HTML(colour_legend_html(), elem_id="cam-legend")
        strips = [
            gr.Image(
                label=strip_label(m) if m else "Grad-CAM",
                interactive=False,
                visible=m is not None,
                elem_id=f"cam-{i}",
                elem_classes="cam-strip",
            )
            for i, m in enumerate(first)
        ]
        with gr.Row(equal_height=False):
            importance = gr.Plot(label="Frame importance", show_label=False, elem_id="frame-importance")
            attention = gr.Plot(
                label="Attention weights",
                show_label=False,
                visible=False,  # shown by an answer from a bundle with the attention head
                elem_id="frame-attention",
            )

    def explain(path, key):
        """What each model looked at in a video clip.

        Args:
            path: the video (avi, mp4, mov, webm, mkv or gif).
            key: leave empty (the page's own bundle key).
        Returns:
            a note on what each model explains and how to read it; Grad-CAM images in the bundle's
            model order (the frames with a heat map: red = what pushed the model towards its answer
            most; empty for a model without one); a chart of how much each frame matters to each
            model's answer; and, for a model with the attention head, its weight on each frame.
        """
        if not path:
            raise gr.Error("Upload or record a video first.")
        view = explain_video(ctx.engine(key), path, ctx.temp)
        if not view.ok:
            raise gr.Error(view.message.replace("⚠ ", ""))
        return (view.message, *slot_updates(view), view.figure, attention_update(view))

    button.click(
        explain,
        inputs=[video, ctx.session],
        outputs=[note, *strips, importance, attention],
        api_name="explain",
        concurrency_limit=1,
        concurrency_id="explain",
    )
