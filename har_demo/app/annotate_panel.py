"""Timeline tab addition: the video and its timeline together.

After a timeline run, one button makes the annotated H.264 mp4 (each model's label and confidence
drawn in, the segments as a strip with a playhead, the true label over time as a strip where it is
known: an `X.truth.json` sidecar or the file name, see `har_demo.truth`) and plays it with the
segments as subtitles (`gr.Video(subtitles=...)`); both files download. The timeline comes back from the run's JSON export, so the Timeline tab's own outputs
stay as they are.
"""

from __future__ import annotations

import json
from pathlib import Path

from har_demo.annotate import AnnotateError, annotate_video, timeline_from_dict, webvtt
from har_demo.app.context import AppContext
from har_demo.app.media import TempFiles
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


def build_annotate_panel(ctx: AppContext, long_video, downloads) -> None:
    """Button -> the annotated mp4 with the segments as subtitles, and both as downloads (/annotate)."""
    import gradio as gr

    with gr.Accordion("The video and its timeline together", open=False, elem_id="annotate"):
        button = gr.Button("Make the annotated video (with subtitles)", elem_id="annotate-button")
        with gr.Row(equal_height=False):
            player = gr.Video(label="Annotated video", interactive=False, height=320, elem_id="annotated-video")
            files = gr.File(label="Annotated mp4 and subtitles (WebVTT)", file_count="multiple", elem_id="annotated")

    def annotate(video, exports):
        """The uploaded video with both models' labels over time drawn in (H.264 mp4) and its subtitles."""
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
