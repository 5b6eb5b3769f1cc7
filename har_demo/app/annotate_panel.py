"""Timeline tab addition: the video and its timeline together.

After a timeline run, one button makes the annotated H.264 mp4 (each model's label and confidence
drawn in, the segments as a strip with a playhead, the true label over time as a strip where it is
known: an `X.truth.json` sidecar or the file name, see `har_demo.truth`) and plays it with the
segments as subtitles (`gr.Video(subtitles=...)`); both files download. The timeline comes back from the run's JSON export, so the Timeline tab's own outputs
stay as they are.

On the Predict tab, `build_clip_annotate` does the same for one analysed clip (its one answer
over the whole clip), so a single clip also has an annotated video to take away.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from har_demo.annotate import AnnotateError, annotate_video, timeline_from_dict, webvtt
from har_demo.app.context import AppContext
from har_demo.app.media import TempFiles
from har_demo.timeline import Timeline
from har_demo.truth import truth_of


def annotated_outputs(video, downloads, temp: TempFiles) -> tuple[tuple[str, str], list[str]]:
    """((mp4, vtt) for the player, [mp4, vtt] for download) from the uploaded video and the run's JSON."""
    if not video:
        raise AnnotateError("Upload a video and run the timeline first.")
    paths = [str(p) for p in (downloads or [])]
    found = [p for p in paths if p.endswith(".json")]
    if not found:
        raise AnnotateError("Run the timeline first: the annotated video is drawn from its result.")
    timeline = timeline_from_dict(json.loads(Path(found[0]).read_text()))
    source = temp.original_of(video)
    stem = Path(source).stem
    folder = temp.new_folder()
    vtt = folder / f"{stem}_timeline.vtt"
    vtt.write_text(webvtt(timeline), encoding="utf-8")
    mp4 = annotate_video(
        source,
        timeline,
        folder / f"{stem}_annotated.mp4",
        truth=truth_of(source, timeline.classes, timeline.duration),
    )
    return (str(mp4), str(vtt)), [str(mp4), str(vtt)]


def clip_timeline(result: dict) -> Timeline:
    """One prediction (the Predict tab's JSON) as a timeline of one window over the whole clip."""
    classes, frames = list(result["classes"]), int(result["frame_count"])
    fps = float(result["fps"]) or 25.0
    return Timeline(
        source=result.get("source", ""),
        classes=classes,
        fps=fps,
        frame_count=frames,
        window_s=frames / fps,
        stride_s=frames / fps,
        span_frames=frames,
        stride_frames=frames,
        sampling="tutorial",
        start_frames=np.zeros(1, np.int64),
        frame_indices=np.array([result["frame_indices"]], np.int64),
        probabilities={
            m: np.array([[info["probabilities"][c] for c in classes]], np.float32)
            for m, info in result["models"].items()
        },
    )


def annotated_clip(video, result: dict | None, temp: TempFiles) -> tuple[tuple[str, str], list[str]]:
    """((mp4, vtt), [mp4, vtt]) for one clip the Predict tab analysed: both models' answers drawn in."""
    if not video or not result or "models" not in result:
        raise AnnotateError("Analyse a video first: the annotated video is drawn from its result.")
    timeline = clip_timeline(result)
    source = temp.original_of(video)
    folder = temp.new_folder()
    stem = Path(source).stem.split(".preview-")[0]
    vtt = folder / f"{stem}_prediction.vtt"
    vtt.write_text(webvtt(timeline), encoding="utf-8")
    truth = truth_of(source, timeline.classes, timeline.duration)
    mp4 = annotate_video(source, timeline, folder / f"{stem}_annotated.mp4", truth=truth)
    return (str(mp4), str(vtt)), [str(mp4), str(vtt)]


def build_clip_annotate(ctx: AppContext, video, raw) -> None:
    """Predict tab addition: the analysed clip with both models' answers drawn in, to play and keep.

    The page's own button only (no API endpoint): an assistant gets the same from /annotate.
    """
    import gradio as gr

    with gr.Accordion("The clip with its answers drawn in", open=False, elem_id="clip-annotate"):
        button = gr.Button("Make the annotated video", elem_id="clip-annotate-button")
        with gr.Row(equal_height=False):
            player = gr.Video(label="Annotated clip", interactive=False, height=300, elem_id="clip-annotated-video")
            files = gr.File(
                label="Annotated mp4 and subtitles (WebVTT)", file_count="multiple", elem_id="clip-annotated"
            )

    def annotate_clip(video_file, result):
        try:
            (mp4, vtt), downloads = annotated_clip(video_file, result, ctx.temp)
        except AnnotateError as exc:
            raise gr.Error(str(exc)) from exc
        return gr.Video(value=mp4, subtitles=vtt), downloads

    button.click(
        annotate_clip,
        inputs=[video, raw],
        outputs=[player, files],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="annotate",
    )


def build_annotate_panel(ctx: AppContext, long_video, downloads) -> None:
    """Button -> the annotated mp4 with the segments as subtitles, and both as downloads (/annotate)."""
    import gradio as gr

    with gr.Accordion("The video and its timeline together", open=False, elem_id="annotate"):
        button = gr.Button("Make the annotated video (with subtitles)", elem_id="annotate-button")
        with gr.Row(equal_height=False):
            player = gr.Video(label="Annotated video", interactive=False, height=320, elem_id="annotated-video")
            files = gr.File(label="Annotated mp4 and subtitles (WebVTT)", file_count="multiple", elem_id="annotated")

    def annotate(video, exports):
        """A video with both models' labels over time drawn in, from a timeline run.

        Args:
            video: the video the timeline was run on.
            exports: the timeline's CSV and JSON files (its third output).
        Returns:
            the annotated video (H.264 mp4) with the segments as subtitles, and the mp4 and the
            WebVTT subtitles as files to download.
        """
        try:
            (mp4, vtt), files = annotated_outputs(video, exports, ctx.temp)
        except AnnotateError as exc:
            raise gr.Error(str(exc)) from exc
        return gr.Video(value=mp4, subtitles=vtt), files

    button.click(
        annotate,
        inputs=[long_video, downloads],
        outputs=[player, files],
        api_name="annotate",
        concurrency_limit=1,
        concurrency_id="annotate",
    )
