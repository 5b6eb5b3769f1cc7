"""The Timeline tab: a window slides over a long video; each model's probabilities over time,
the segments, and the per-window predictions as CSV/JSON downloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from har_demo import plots
from har_demo.app.context import AppContext
from har_demo.app.engine import Engine
from har_demo.app.media import TempFiles
from har_demo.app.model_slots import MODEL_SLOTS, overflow_note, slot_models
from har_demo.app.text import timing_text, warning
from har_demo.clip import VideoError
from har_demo.names import display_name
from har_demo.request_limits import check_upload
from har_demo.smoothing import DEFAULT_STICKINESS, smooth
from har_demo.timeline import DEFAULT_STRIDE_S, DEFAULT_WINDOW_S
from har_demo.truth import FROM_FILE_NAME, Truth, label_from_name, truth_of

EXAMPLE_WINDOW_S, EXAMPLE_STRIDE_S = 2.0, 0.5  # the one-activity examples last about 3 s


@dataclass
class TimelineView:
    ok: bool
    message: str = ""
    figure: Any = None
    summary: str = ""  # markdown: what was run, notices, timing
    segments: dict[str, str] = field(default_factory=dict)  # model -> markdown table of its segments
    files: list[Path] = field(default_factory=list)  # CSV, JSON
    timeline: Any = None
    truth: Truth | None = None  # the true label over time, where known (har_demo.truth: sidecar or file name)
    true_label: str | None = None  # the truth's label when the whole clip has one


def truth_text(truth: Truth) -> str:
    """The summary's words for where the true label comes from and what it is."""
    if truth.source == FROM_FILE_NAME and truth.single_label:
        return f"true label (from the file name): **{truth.single_label}**"
    if len(truth.segments) == 1:
        return f"true label from {truth.source}: **{truth.describe()}**"
    return f"true labels from {truth.source}: {truth.describe()}"


def segment_table(timeline, model: str, tops=None, title: str = "") -> str:
    """One model's segments as a markdown table (time span, activity, windows, mean confidence);
    `tops` gives each window's class where it is not the top one (the smoothed row)."""
    segments = timeline.segments(model, tops)
    lines = [
        f"{title or f'**{display_name(model)}**'}: {len(segments)} segment{'s' if len(segments) != 1 else ''}\n",
        "| time | activity | windows | confidence |",
        "|:---|:---|---:|---:|",
    ]
    for s in segments:
        lines.append(f"| {s.start_s:.1f}–{s.end_s:.1f} s | {s.label} | {s.windows} | {s.mean_confidence:.0%} |")
    return "\n".join(lines)


def smoothed_table(timeline, model: str, stickiness: float = DEFAULT_STICKINESS) -> str:
    """The smoothed row: the same model's segments after HMM smoothing (Viterbi with a sticky
    transition matrix, har_demo.smoothing), which drops one-window flickers (docs/timeline.md)."""
    tops = smooth(timeline.probabilities[model], stickiness)
    return segment_table(
        timeline, model, tops, title=f"*{display_name(model)}, smoothed (HMM, stickiness {stickiness:g})*"
    )


def timeline_view(
    engine: Engine,
    path,
    window_s: float,
    stride_s: float,
    exports: TempFiles | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> TimelineView:
    """Slide a window over the whole video; plot, segments and downloads (or a message)."""
    from har_demo.timeline import compute_timeline

    limits = engine.limits
    if exports is not None:
        path = exports.original_of(path)
    try:
        window_s, stride_s = float(window_s), float(stride_s)
    except (TypeError, ValueError):
        return TimelineView(ok=False, message=warning("The window and the stride must be numbers of seconds."))
    if not limits.min_window_s <= window_s <= limits.max_window_s:
        return TimelineView(
            ok=False,
            message=warning(f"Choose a window between {limits.min_window_s:g} and {limits.max_window_s:g} seconds."),
        )
    if not limits.min_stride_s <= stride_s <= limits.max_stride_s:
        return TimelineView(
            ok=False,
            message=warning(f"Choose a stride between {limits.min_stride_s:g} and {limits.max_stride_s:g} seconds."),
        )
    try:
        path = check_upload(path, limits)
        timeline = compute_timeline(
            path,
            engine,
            window_s=window_s,
            stride_s=stride_s,
            limits=limits.decode_limits(limits.timeline_seconds),
            batch_size=engine.timeline_batch,  # bounded by bytes (limits.timeline_batch_mb)
            progress=progress,
        )
    except VideoError as exc:
        return TimelineView(ok=False, message=warning(str(exc)))
    except Exception as exc:
        return TimelineView(ok=False, message=warning(f"This video could not be read ({type(exc).__name__}: {exc})."))

    timeline.source = Path(path).name
    truth = truth_of(path, timeline.classes, timeline.duration)  # the annotated video's own rule
    stem = f"{Path(path).stem}_timeline"
    files = (exports or _default_exports()).write(stem, {".csv": timeline.to_csv(), ".json": timeline.to_json()})
    seconds = timeline.seconds
    head = (
        f"**{Path(path).name}**: {timeline.duration:.1f} s at {timeline.fps:.3g} fps · "
        f"{timeline.windows} window{'s' if timeline.windows != 1 else ''} of {window_s:g} s every {stride_s:g} s, "
        f"{engine.settings.frames} frames each"
    )
    if truth:
        head += f" · {truth_text(truth)}"
    timing = f"**Time:** {timing_text(seconds)}\n\n**Device:** {engine.device}"
    notes = "\n\n".join(warning(n) for n in [*timeline.notes, overflow_note(timeline.models, "segment tables")] if n)
    summary = "\n\n".join(p for p in (head, notes, timing) if p)
    return TimelineView(
        ok=True,
        figure=plots.timeline_figure(timeline, truth=truth),
        summary=summary,
        segments={m: f"{segment_table(timeline, m)}\n\n{smoothed_table(timeline, m)}" for m in timeline.models},
        files=files,
        timeline=timeline,
        truth=truth,
        true_label=truth.single_label if truth else None,
    )


_EXPORTS: TempFiles | None = None


def _default_exports() -> TempFiles:
    global _EXPORTS
    if _EXPORTS is None:
        _EXPORTS = TempFiles()
    return _EXPORTS


def page_outputs(view: TimelineView) -> tuple:
    """(summary, plot, downloads, a segment table per box): the boxes are filled in the served
    bundle's model order (each table names its model), the ones left over blank."""
    if not view.ok:
        return view.message, None, None, *[""] * MODEL_SLOTS
    tables = [view.segments[m] if m else "" for m in slot_models(list(view.segments))]
    return view.summary, view.figure, [str(p) for p in view.files], *tables


def player_with_subtitles(video, files, temp: TempFiles):
    """The tab's own player, given the run's segments as subtitles (from its JSON download)."""
    import gradio as gr

    from har_demo.annotate import timeline_from_dict, webvtt

    found = [str(f) for f in (files or []) if str(f).endswith(".json")]
    if not video or not found:
        return gr.skip()
    timeline = timeline_from_dict(json.loads(Path(found[0]).read_text()))
    vtt = temp.new_folder() / f"{Path(str(video)).stem.split('.preview-')[0]}_timeline.vtt"
    vtt.write_text(webvtt(timeline), encoding="utf-8")
    return gr.Video(value=video, subtitles=str(vtt))


# --------------------------------------------------------------------------- layout
def build_timeline_tab(ctx: AppContext) -> None:
    import gradio as gr

    from har_demo.app.annotate_panel import build_annotate_panel
    from har_demo.app.examples import find_examples
    from har_demo.app.predict_tab import PREVIEW_EVENT, preview

    limits = ctx.limits
    examples, mixed = find_examples(ctx.default.bundle.classes)
    with gr.Tab("Timeline", id="timeline"):
        gr.Markdown(
            "Slide a window over a long video and watch each model's probabilities change. "
            "The per-window predictions download as CSV and JSON (observations for an HMM/DBN).",
            elem_classes="small-note",
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=300):
                long_video = gr.Video(
                    label="Long video", sources=["upload"], include_audio=True, height=260, elem_id="long-video"
                )
                window = gr.Slider(
                    limits.min_window_s,
                    limits.max_window_s,
                    value=DEFAULT_WINDOW_S,
                    step=0.5,
                    label="Window (seconds of video per prediction)",
                )
                stride = gr.Slider(
                    limits.min_stride_s,
                    limits.max_stride_s,
                    value=DEFAULT_STRIDE_S,
                    step=0.25,
                    label="Stride (seconds between windows)",
                )
                run_timeline = gr.Button("Run timeline", variant="primary", elem_id="run-timeline")
                example_blocks = []
                if mixed:
                    example_blocks.append(
                        gr.Examples(
                            examples=[[str(mixed), DEFAULT_WINDOW_S, DEFAULT_STRIDE_S]],
                            inputs=[long_video, window, stride],
                            label="Synthetic example",
                            elem_id="timeline-examples",
                            example_labels=["four activities, 16 s"],
                            api_name=False,
                        )
                    )
                if examples:  # one class each: the timeline shows the true label as a band
                    example_blocks.append(
                        gr.Examples(
                            examples=[[str(p), EXAMPLE_WINDOW_S, EXAMPLE_STRIDE_S] for p in examples],
                            inputs=[long_video, window, stride],
                            label="One activity each (the true label is known)",
                            elem_id="timeline-class-examples",
                            example_labels=[
                                label_from_name(p.name, ctx.default.bundle.classes) or p.stem for p in examples
                            ],
                            api_name=False,
                        )
                    )
            with gr.Column(scale=3, min_width=300):
                downloads = gr.File(
                    label="Per-window predictions (CSV, JSON)",
                    file_count="multiple",
                    interactive=False,
                    elem_id="downloads",
                )
                summary = gr.Markdown(elem_id="timeline-summary", label="Summary")
        timeline_plot = gr.Plot(label="Timeline", show_label=False, elem_id="timeline-plot")
        with gr.Row(elem_id="segments"):
            segment_boxes = [
                gr.Markdown(min_width=280, label="Segments", elem_id=f"segments-{i}") for i in range(MODEL_SLOTS)
            ]
        build_annotate_panel(ctx, long_video, downloads)

        def timeline(video, window_s, stride_s, key, progress=gr.Progress()):
            """What each model recognises over time in a long video.

            Args:
                video: the video file.
                window_s: seconds of video each prediction sees (1-20).
                stride_s: seconds between the starts of two windows (0.25-10).
                key: leave empty (the page's own bundle key).
            Returns:
                a summary, the probability-over-time chart, CSV/JSON files of every window,
                and each model's segments (start, end, activity), in the bundle's model order.
            """
            view = timeline_view(
                ctx.engine(key),
                video,
                window_s,
                stride_s,
                exports=ctx.temp,
                progress=lambda fraction, desc: progress(fraction, desc=desc),
            )
            if not view.ok:  # bad input: an error through the API too, not a normal answer
                raise gr.Error(view.message.removeprefix("⚠ "))
            return page_outputs(view)

        for block in example_blocks:  # the examples are WebM: H.264 for Safari and iOS, as on the Predict tab
            block.load_input_event.then(
                lambda v: preview(ctx, v),
                inputs=[long_video],
                outputs=[long_video],
                **PREVIEW_EVENT,
            )
        long_video.upload(
            lambda v: preview(ctx, v),
            inputs=[long_video],
            outputs=[long_video],
            **PREVIEW_EVENT,
        )
        run_timeline.click(
            timeline,
            inputs=[long_video, window, stride, ctx.session],
            outputs=[summary, timeline_plot, downloads, *segment_boxes],
            api_name="timeline",
            concurrency_limit=2,
            concurrency_id="timeline",
        ).success(
            lambda video, files: player_with_subtitles(video, files, ctx.temp),
            inputs=[long_video, downloads],
            outputs=[long_video],
            api_visibility="private",
            show_progress="hidden",
        )
