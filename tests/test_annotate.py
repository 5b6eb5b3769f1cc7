"""Subtitles that match the timeline, and an annotated H.264 mp4 with the clip's frame count."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from har_demo.annotate import annotate_video, cues, webvtt
from har_demo.names import REPORT_CLASSES
from har_demo.timeline import window_starts
from tests.helpers import made_timeline
from tests.paths import REPO

EXAMPLE = REPO / "examples" / "synthetic_TaiChi.webm"


def parse_vtt(text: str) -> list[tuple[float, float, str]]:
    def seconds(stamp: str) -> float:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    assert text.startswith("WEBVTT\n")
    found = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})[^\n]*\n(.+)", text)
    return [(seconds(a), seconds(b), line) for a, b, line in found]


def test_subtitles_match_the_timeline() -> None:
    count, fps = 250, 25.0  # 10 s, windows of 2 s every 0.5 s: 17 windows
    n = len(window_starts(count, 50, 12))
    tops = {"convlstm": [1] * 6 + [2] * (n - 6), "lrcn": [1] * 9 + [3] * (n - 9)}
    timeline = made_timeline(count, fps, tops)
    parsed = parse_vtt(webvtt(timeline))
    assert parsed, "some cues"
    assert parsed[0][0] == 0 and parsed[-1][1] == pytest.approx(timeline.ends[-1], abs=1e-3)
    for (a, b, _), (c, _, _) in zip(parsed, parsed[1:]):
        assert b == pytest.approx(c) and a < b, "cues tile the covered time"
    for start, end, text in parsed:
        middle = (start + end) / 2
        for model, label in (("convlstm", "ConvLSTM"), ("lrcn", "LRCN")):
            (segment,) = [s for s in timeline.segments(model) if s.start_s <= middle < s.end_s]
            assert f"{label}: {segment.label} 70%" in text
    assert len(parsed) == 3  # TaiChi/TaiChi, Swing/TaiChi, Swing/HorseRace
    unsure = cues(timeline, threshold=0.8)
    assert all("not sure (" in cue.text for cue in unsure)


def test_annotated_mp4_decodes_with_the_clips_frame_count(tmp_path: Path) -> None:
    cap = cv2.VideoCapture(str(EXAMPLE))
    count = 0
    while cap.grab():
        count += 1
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    cap.release()
    n = len(window_starts(count, int(2 * fps), int(0.5 * fps)))
    timeline = made_timeline(count, fps, {"convlstm": [1] * n, "lrcn": [0] * (n // 2) + [1] * (n - n // 2)})
    out = annotate_video(EXAMPLE, timeline, tmp_path / "annotated.mp4", true_label="TaiChi")
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,pix_fmt,width,height",
            "-of",
            "json",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    stream = json.loads(probe.stdout)["streams"][0]
    assert stream["codec_name"] == "h264" and stream["pix_fmt"] == "yuv420p"
    decoded = cv2.VideoCapture(str(out))
    frames = []
    while True:
        ok, frame = decoded.read()
        if not ok:
            break
        frames.append(frame)
    decoded.release()
    assert len(frames) == count
    source = cv2.VideoCapture(str(EXAMPLE))
    _, first = source.read()
    source.release()
    assert frames[0].shape[:2] == (stream["height"], stream["width"])
    # the label panel is drawn over the top, the clip itself shows below it
    middle = slice(frames[0].shape[0] // 3, 2 * frames[0].shape[0] // 3)
    assert np.abs(frames[0][middle].astype(int) - cv2.resize(first, frames[0].shape[1::-1])[middle]).mean() < 12
    assert np.abs(frames[0][:20].astype(int) - cv2.resize(first, frames[0].shape[1::-1])[:20]).mean() > 20


def test_unreadable_clip_is_a_clear_error(tmp_path: Path) -> None:
    from har_demo.annotate import AnnotateError

    bad = tmp_path / "not_a_video.mp4"
    bad.write_bytes(b"nothing here")
    timeline = made_timeline(100, 25.0, {"lrcn": [0] * len(window_starts(100, 50, 12))})
    with pytest.raises(AnnotateError):
        annotate_video(bad, timeline, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_timeline_round_trips_through_its_json() -> None:
    from har_demo.annotate import timeline_from_dict

    n = len(window_starts(250, 50, 12))
    timeline = made_timeline(250, 25.0, {"convlstm": [1] * 6 + [2] * (n - 6), "lrcn": [0] * n})
    back = timeline_from_dict(json.loads(timeline.to_json()))
    assert webvtt(back) == webvtt(timeline)
    np.testing.assert_array_equal(back.start_frames, timeline.start_frames)


def test_true_label_from_the_file_name() -> None:
    from har_demo.annotate import true_label_of

    classes = list(REPORT_CLASSES)
    assert true_label_of("v_TaiChi_g01_c02.avi", classes) == "TaiChi"
    assert true_label_of("/x/synthetic_HorseRace.webm", classes) == "HorseRace"
    assert true_label_of("v_Biking_g01_c01.avi", classes) is None
    assert true_label_of("holiday.mp4", classes) is None


def decoded_frames(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def test_the_annotated_strip_and_true_label_follow_the_truths_pieces(tmp_path: Path) -> None:
    """Four true pieces over one 3.2 s clip (80 frames, 320x240): the truth row of the strip shows
    each piece in its class colour, and the "True label" line changes from piece to piece."""
    from har_demo.plots import class_colour
    from har_demo.truth import Truth, TruthSegment

    count, fps = 80, 25.0
    n = len(window_starts(count, int(2 * fps), int(0.5 * fps)))
    timeline = made_timeline(count, fps, {"convlstm": [1] * n, "lrcn": [1] * n})  # the models never change
    pieces = [TruthSegment(0.8 * i, 0.8 * (i + 1), name) for i, name in enumerate(REPORT_CLASSES)]
    out = annotate_video(EXAMPLE, timeline, tmp_path / "pieces.mp4", truth=Truth(tuple(pieces), "test"))
    frames = decoded_frames(out)
    assert len(frames) == count and frames[0].shape[:2] == (240, 320)
    # the strip: 3 rows (2 models + truth) of 6 px + 2 px gap at the bottom; the truth row is the last
    truth_row = frames[0][240 - 8 + 1 : 240 - 8 + 5]
    for i, piece in enumerate(pieces):
        x = int((i + 0.5) * 80) + 15  # clear of the playhead
        hexed = class_colour(REPORT_CLASSES.index(piece.label)).lstrip("#")
        expected = np.array([int(hexed[k : k + 2], 16) for k in (4, 2, 0)])  # BGR
        seen = truth_row[:, x - 3 : x + 3].reshape(-1, 3).mean(axis=0)
        assert np.abs(seen - expected).max() < 40, (piece.label, seen, expected)
    # the label panel's third line ("True label: <piece>"), as white text over the darkened frame
    line = slice(26, 44)
    texts = [cv2.cvtColor(frames[int((i + 0.5) * 20)], cv2.COLOR_BGR2GRAY)[line, :200] > 150 for i in range(4)]
    for a in range(4):
        for b in range(a + 1, 4):
            assert np.count_nonzero(texts[a] ^ texts[b]) > 30, (pieces[a].label, pieces[b].label)
    same_piece = cv2.cvtColor(frames[22], cv2.COLOR_BGR2GRAY)[line, :200] > 150  # TaiChi again, 2 frames on
    assert np.count_nonzero(same_piece ^ texts[1]) < np.count_nonzero(texts[0] ^ texts[1]) / 3
