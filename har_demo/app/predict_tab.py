"""The Predict tab: one video in; the verdict, one probability chart, the 20 frames, timings.

`analyse_video` is the logic (plain inputs, no Gradio); `build_predict_tab` lays the tab out and
wires it. The frames go to the page as PNG files written once per request (see media.TempFiles).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from har_demo import plots
from har_demo.app.annotate_panel import build_clip_annotate
from har_demo.app.context import AppContext
from har_demo.app.engine import Engine
from har_demo.app.examples import ExampleAnswers
from har_demo.app.explain_panel import build_explain_panel, honest_verdict, threshold_slider, wire_verdict
from har_demo.app.media import TempFiles
from har_demo.app.text import timing_text, warning
from har_demo.clip import Clip, VideoError, read_clip
from har_demo.inference import Prediction
from har_demo.request_limits import check_upload
from har_demo.verdict import DEFAULT_THRESHOLD

PROMPT = "Upload a video or click an example."


@dataclass
class Analysis:
    """Everything the Predict tab shows for one video."""

    ok: bool
    message: str = ""  # markdown: the error, or notices (short clip, synthetic weights)
    verdict: str = ""
    figure: Any = None
    gallery: list[tuple[np.ndarray, str]] = field(default_factory=list)
    timing: str = ""
    device: str = ""
    result: dict = field(default_factory=dict)  # JSON for API users

    @property
    def info_markdown(self) -> str:
        parts = [
            p
            for p in (
                self.message,
                self.timing and f"**Time:** {self.timing}",
                self.device and f"**Device:** {self.device}",
            )
            if p
        ]
        return "\n\n".join(parts)


def frame_caption(index: int, seconds: float) -> str:
    return f"frame {index} · {seconds:.2f} s"


def gallery_items(clip: Clip) -> list[tuple[np.ndarray, str]]:
    """The sampled frames in the order the models saw them, in RGB, captioned with index and time."""
    frames = clip.rgb()
    return [(np.ascontiguousarray(f), frame_caption(i, t)) for f, i, t in zip(frames, clip.indices, clip.times)]


def verdict_markdown(prediction: Prediction) -> str:
    """The honest verdict (har_demo.verdict) at the default threshold; the page's slider re-judges it."""
    return honest_verdict(prediction.classes, prediction.probabilities, DEFAULT_THRESHOLD)


def analyse_video(engine: Engine, path, temp: TempFiles | None = None) -> Analysis:
    """Decode with the bundle's settings, run every model, describe the result.

    `temp` maps a browser preview back to the uploaded original, which is what gets analysed.
    """
    limits = engine.limits
    if temp is not None:
        path = temp.original_of(path)
    try:
        path = check_upload(path, limits)
        clip = read_clip(path, engine.settings, limits=limits.decode_limits(limits.predict_seconds))
    except VideoError as exc:
        return Analysis(ok=False, message=warning(str(exc)), device=engine.device)
    except Exception as exc:  # a decoder crash we did not foresee: the page must keep serving
        return Analysis(ok=False, message=warning(f"This video could not be read ({type(exc).__name__}: {exc})."))

    try:
        prediction = engine.predict_clip(clip, source=Path(path).name)
    except Exception as exc:  # a model failure is a bug, but the page keeps serving and says so
        return Analysis(ok=False, message=warning(f"The models failed on this clip ({type(exc).__name__}: {exc})."))
    notes = []
    if clip.repeated:
        notes.append(
            warning(
                f"Short clip: {clip.notes[0] if clip.notes else ''} The prediction is still made, "
                "but treat it with care."
            )
        )
    notes += [warning(n) for n in (clip.notes[1:] if clip.repeated else clip.notes)]
    if engine.bundle.synthetic:
        notes.append(
            "ℹ These models were trained on synthetic clips: expect them to be wrong on real videos "
            "(see the Models tab)."
        )
    known = ", ".join(engine.classes) if len(engine.classes) <= 8 else "listed on the Models tab"
    notes.append(
        f"ℹ The models only know {len(engine.classes)} activities ({known}); "
        "any other activity is still given one of these names."
    )
    clip_line = (
        f"**Clip:** {Path(path).name}, {clip.frame_count} frames at {clip.fps:.3g} fps "
        f"({clip.duration:.1f} s), {clip.source_size[0]}×{clip.source_size[1]}"
    )
    result = prediction.to_dict()
    result["device"] = engine.device
    result["frame_times"] = [round(t, 3) for t in clip.times]
    return Analysis(
        ok=True,
        message="\n\n".join([clip_line, *notes]),
        verdict=verdict_markdown(prediction),
        figure=plots.probability_bars(prediction.classes, prediction.probabilities),
        gallery=gallery_items(clip),
        timing=timing_text(prediction.seconds),
        device=engine.device,
        result=result,
    )


def cached_example(analysis: Analysis) -> Analysis:
    """An example's answer is cached: say so instead of replaying its first run's timing as news."""
    if analysis.ok:
        analysis.timing = (
            f"a cached example: this answer was computed once ({analysis.timing}) and is shown again "
            "without running the models"
        )
        analysis.result = {**analysis.result, "cached_example": True}
    return analysis


# --------------------------------------------------------------------------- outputs for the page
def page_outputs(analysis: Analysis, temp: TempFiles) -> tuple:
    """(verdict, bars, frames, info, raw JSON): the frames as PNG files no other request rewrites."""
    if not analysis.ok:
        return "", None, [], analysis.info_markdown, {"error": analysis.message}
    gallery = [(str(p), c) for p, c in temp.write_images(analysis.gallery)]
    return analysis.verdict, analysis.figure, gallery, analysis.info_markdown, analysis.result


def cleared_outputs() -> tuple:
    """What the tab shows with no video: nothing of the previous clip."""
    return PROMPT, None, [], "", None


def predict(ctx: AppContext, video, key: str | None = None) -> tuple:
    """The /predict endpoint: this session's engine on one video; bad input raises gr.Error (API and page)."""
    analysis = analyse_video(ctx.engine(key), video, ctx.temp)
    if not analysis.ok:
        import gradio as gr

        raise gr.Error(analysis.message.removeprefix("⚠ "))
    return page_outputs(analysis, ctx.temp)


def predict_example(ctx: AppContext, video, key: str | None = None) -> tuple:
    """An example click: the default bundle's answer is computed once per clip; a session serving its
    own bundle gets its models' answer, live (never the shipped bundle's cached one)."""
    if ctx.engine(key) is not ctx.default:
        return predict(ctx, video, key)
    answers = ctx.components.setdefault("example_answers", ExampleAnswers())
    analysis = answers.get(video, lambda: cached_example(analyse_video(ctx.default, video, ctx.temp)))
    return page_outputs(analysis, ctx.temp)


# How every tab's preview event runs: off the API, quietly, two conversions at a time across the page.
PREVIEW_EVENT = dict(api_visibility="private", show_progress="hidden", concurrency_limit=2, concurrency_id="preview")


def preview(ctx: AppContext, video):
    """A browser-playable copy of an upload the browser cannot play (the models see the original)."""
    import gradio as gr

    playable = ctx.temp.preview(ctx.temp.original_of(video)) if video else None
    return str(playable) if playable else gr.skip()


# --------------------------------------------------------------------------- layout
def build_predict_tab(ctx: AppContext) -> None:
    """Upload / webcam / examples -> verdict, bars, the frames, timing, device. Shares "video"."""
    import gradio as gr

    from har_demo.app.examples import find_examples, wire_examples

    engine = ctx.default
    examples, _mixed = find_examples(engine.bundle.classes)
    with gr.Tab("Predict", id="predict"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=300):
                video = gr.Video(
                    label="Video (upload or record)",
                    sources=["upload", "webcam"],
                    include_audio=True,
                    height=300,
                    elem_id="video",
                )
                analyse = gr.Button("Analyse", variant="primary", elem_id="analyse")
                gr.Markdown(ctx.limits.describe(), elem_classes="small-note")
            with gr.Column(scale=3, min_width=300):
                verdict = gr.Markdown(elem_id="verdict", value=PROMPT, label="Verdict")
                threshold = threshold_slider()
                bars = gr.Plot(label="Class probabilities", elem_id="bars", show_label=False)
        info = gr.Markdown(elem_id="info", label="Clip, notes and timing")
        frames = gr.Gallery(
            label=f"The {engine.settings.frames} frames the models saw, in order (shown in RGB)",
            columns=10,
            height="auto",
            object_fit="contain",
            format="png",
            allow_preview=True,
            interactive=False,
            elem_id="frames",
        )
        with gr.Accordion("Raw result (JSON)", open=False):
            raw = gr.JSON(label="Prediction", elem_id="raw")
        outputs = [verdict, bars, frames, info, raw]
        wire_verdict(threshold, verdict, raw)
        build_clip_annotate(ctx, video, raw)
        build_explain_panel(ctx, video)
        if examples:
            example_block = wire_examples(
                ctx,
                examples,
                video,
                outputs,
                lambda v, key: predict_example(ctx, v, key),
                label="Synthetic examples (one click)",
                elem_id="examples",
                example_labels=[Path(p).stem.replace("synthetic_", "") for p in examples],
            )
            example_block.load_input_event.then(  # the examples are WebM: H.264 for Safari and iOS
                lambda v: preview(ctx, v),
                inputs=[video],
                outputs=[video],
                **PREVIEW_EVENT,
            )

        def predict_video(video_file: str, session_key: str | None = None):
            """Recognise the human activity in a video clip with both models (ConvLSTM and LRCN).

            Args:
                video_file: the video (avi, mp4, mov, webm, mkv or gif).
                session_key: leave empty (the page's own bundle key).
            Returns:
                the verdict in words, the probability chart, the 20 frames the models saw,
                timings, and every model's class probabilities as JSON.
            """
            return predict(ctx, video_file, session_key)

        analysed = gr.on(
            triggers=[analyse.click, video.upload, video.stop_recording],
            fn=predict_video,
            inputs=[video, ctx.session],
            outputs=outputs,
            api_name="predict",
            trigger_mode="always_last",
        )
        previewed = analysed.then(
            lambda v: preview(ctx, v),
            inputs=[video],
            outputs=[video],
            **PREVIEW_EVENT,
        )
        # Clear also cancels an analysis or a preview still running, so neither fills the page again afterwards.
        video.clear(
            cleared_outputs,
            outputs=outputs,
            api_visibility="private",
            show_progress="hidden",
            cancels=[analysed, previewed],
        )
    ctx.components["video"] = video
