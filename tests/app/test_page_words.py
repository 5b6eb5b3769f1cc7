"""What a student meets on the page, without a browser: names for people, the Grad-CAM
legend and what a negative bar means, the annotated video's drawn labels and subtitles kept apart,
a single clip's annotated video, H.264 for every clip the page plays, and Stop's last words."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from har_demo.timeline import window_starts
from tests.helpers import made_timeline
from tests.paths import REPO

EXAMPLE = REPO / "examples" / "synthetic_TaiChi.webm"


def overlapping(boxes):
    pairs = []
    for i, (a_name, a, _) in enumerate(boxes):
        for b_name, b, _ in boxes[i + 1 :]:
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                pairs.append((a_name, b_name))
    return pairs


def test_bundle_names_read_as_words() -> None:
    from har_demo.app.text import bundle_label

    assert bundle_label("studio-tiny-split") == "the models trained in the Train tab"
    assert bundle_label("SynthUCF50-group-split") == "SynthUCF50 (group split)"
    assert bundle_label("my-bundle") == "my-bundle"


def test_grad_cam_legend_and_negative_bars_are_explained() -> None:
    from har_demo.app.explain_panel import EXPLAIN_NOTE, colour_legend_html

    legend = colour_legend_html()
    assert "rgb(0,0,128)" in legend and "rgb(128,0,0)" in legend  # JET: dark blue (none) to dark red (most)
    assert "blue" in legend and "red" in legend
    assert "below zero" in EXPLAIN_NOTE and "more* sure" in EXPLAIN_NOTE


@pytest.mark.parametrize("size", [(320, 240), (640, 480), (176, 144)])
def test_drawn_labels_bars_strip_and_subtitles_do_not_overlap(size) -> None:
    """From the boxes the painter draws: no text over a bar or the strip, even for long class names;
    the subtitles' cue line (two lines of about 6% each) falls between the panel and the strip."""
    from har_demo.annotate import CUE_SETTINGS, SUBTITLE_TOP, _Painter, webvtt
    from har_demo.truth import Truth

    count, fps = 100, 25.0
    n = len(window_starts(count, 50, 12))
    timeline = made_timeline(count, fps, {"convlstm": [1] * n, "lrcn": [0] * n})
    timeline.classes = ["ApplyEyeMakeupVeryCarefully", "PlayingDaf", "Swing", "HorseRace"]
    painter = _Painter(timeline, size, Truth.whole("ApplyEyeMakeupVeryCarefully", timeline.duration))
    for t in (0.0, 1.0, timeline.duration):
        boxes = painter.layout(t)
        assert len(boxes) == 2 * 2 + 1 + 1  # two models (text and bar), the true label, the strip
        assert not overlapping(boxes), boxes
        assert all(0 <= x0 < x1 <= size[0] for _n, (x0, _y0, x1, _y1), _s in boxes), boxes
        strip_top = next(box[1] for name, box, _ in boxes if name == "strip")
        panel_bottom = max(box[3] for name, box, _ in boxes if name != "strip")
        assert panel_bottom < SUBTITLE_TOP * size[1] and SUBTITLE_TOP * size[1] + 0.12 * size[1] < strip_top
    vtt = webvtt(timeline)
    assert vtt.count(CUE_SETTINGS) == len([line for line in vtt.splitlines() if "-->" in line]) > 0


def test_a_single_clip_gets_an_annotated_video(tmp_path: Path) -> None:
    """The Predict tab's JSON, drawn onto the clip: H.264, every frame, the answer at the top."""
    from har_demo.app.annotate_panel import annotated_clip, clip_timeline
    from har_demo.app.media import TempFiles, video_codec

    frames = 0
    cap = cv2.VideoCapture(str(EXAMPLE))
    while cap.read()[0]:
        frames += 1
    cap.release()
    result = {
        "source": EXAMPLE.name,
        "classes": ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"],
        "models": {
            "convlstm": {"probabilities": {"WalkingWithDog": 0.1, "TaiChi": 0.8, "Swing": 0.05, "HorseRace": 0.05}},
            "lrcn": {"probabilities": {"WalkingWithDog": 0.6, "TaiChi": 0.2, "Swing": 0.1, "HorseRace": 0.1}},
        },
        "frame_indices": list(range(0, frames, max(1, frames // 20)))[:20],
        "frame_count": frames,
        "fps": 25.0,
    }
    timeline = clip_timeline(result)
    assert timeline.windows == 1 and timeline.segments("convlstm")[0].label == "TaiChi"
    temp = TempFiles(root=tmp_path / "temp")
    (mp4, vtt), downloads = annotated_clip(str(EXAMPLE), result, temp)
    assert downloads == [mp4, vtt] and video_codec(mp4) == "h264"
    assert "ConvLSTM: TaiChi 80% · LRCN: WalkingWithDog 60%" in Path(vtt).read_text()
    cap = cv2.VideoCapture(mp4)
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    assert count == frames
    from har_demo.annotate import AnnotateError

    with pytest.raises(AnnotateError, match="Analyse a video first"):
        annotated_clip(str(EXAMPLE), None, temp)


def test_webm_recordings_are_played_back_as_h264_mp4(tmp_path: Path) -> None:
    """Safari and iOS play H.264 mp4, often not WebM: the page's preview converts anything else."""
    from har_demo.app.media import TempFiles, plays_everywhere, video_codec

    temp = TempFiles(root=tmp_path / "temp")
    assert not plays_everywhere(EXAMPLE)
    preview = temp.preview(EXAMPLE)
    assert preview is not None and preview.suffix == ".mp4" and video_codec(preview) == "h264"
    assert temp.original_of(preview) == EXAMPLE  # the models still see the recording itself
    assert plays_everywhere(preview) and temp.preview(preview) is None


@pytest.mark.slow
def test_after_stop_no_epoch_line_comes_before_stopped(tmp_path: Path) -> None:
    """After Stop the progress went back to "epoch ... about N s left" before "Stopped"."""
    from har_demo.studio.limits import StudioLimits
    from har_demo.studio.trainer import StudioTrainer, TrainOptions
    from tests.helpers import make_set

    trainer = StudioTrainer(StudioLimits())
    job = trainer.start("dana", make_set(tmp_path / "s", clips_per_group=1, seed=5), TrainOptions(("lrcn",), 20))
    kinds, stopped_at = [], None
    for event in job.events():
        kinds.append(event.kind)
        if event.kind == "started":
            assert event.message.startswith("Training LRCN on "), event.message
        if event.kind == "epoch" and stopped_at is None:
            assert event.message.startswith("LRCN: epoch 1/20")  # the model's display name
            job.stop()
            stopped_at = len(kinds)
    assert stopped_at is not None and "epoch" not in kinds[stopped_at:], kinds
    assert kinds[-1] == "done" and job.last.stopped
    manifest = json.loads((job.last.bundle / "manifest.json").read_text())
    assert list(manifest["models"]) == ["lrcn"]
