"""A clip's true label over time: read from a `X.truth.json` sidecar, from the
shipped example a file is a copy of, or from the file name; a sidecar that cannot be used is
ignored. The mixed example's committed sidecar says what make_examples rendered."""

from __future__ import annotations

import fnmatch
import json
import shutil
from pathlib import Path

import cv2
import pytest
import tomllib

from har_demo.names import REPORT_CLASSES
from har_demo.shipped import EXAMPLES_DIR, MIXED_EXAMPLE_NAME
from har_demo.truth import FROM_FILE_NAME, Truth, TruthSegment, read_sidecar, sidecar_path, truth_of, write_sidecar
from tests.paths import REPO

CLASSES = list(REPORT_CLASSES)


def a_video(folder: Path, name: str) -> Path:
    """Any file stands for the video: reading the truth never decodes it."""
    path = folder / name
    path.write_bytes(b"not decoded here")
    return path


def test_the_file_name_states_one_label_over_the_whole_clip(tmp_path):
    truth = truth_of(a_video(tmp_path, "v_TaiChi_g01_c02.avi"), CLASSES, duration_s=7.5)
    assert truth == Truth((TruthSegment(0.0, 7.5, "TaiChi"),), FROM_FILE_NAME)
    assert truth.single_label == "TaiChi" and truth.label_at(7.4) == "TaiChi"
    assert truth_of(a_video(tmp_path, "synthetic_HorseRace.webm"), CLASSES, 3.2).single_label == "HorseRace"
    assert truth_of(a_video(tmp_path, "v_Biking_g01_c01.avi"), CLASSES, 5.0) is None  # not one of ours
    assert truth_of(a_video(tmp_path, "holiday.mp4"), CLASSES, 5.0) is None


def test_a_sidecar_beside_the_video_gives_its_pieces_and_wins_over_the_name(tmp_path):
    video = a_video(tmp_path, "v_TaiChi_g01_c02.avi")
    written = write_sidecar(video, [TruthSegment(0, 2.5, "Swing"), TruthSegment(3, 6, "TaiChi")])
    assert written == tmp_path / "v_TaiChi_g01_c02.truth.json" == sidecar_path(video)
    truth = truth_of(video, CLASSES, duration_s=6.0)
    assert truth.source == "v_TaiChi_g01_c02.truth.json"
    assert truth.segments == (TruthSegment(0.0, 2.5, "Swing"), TruthSegment(3.0, 6.0, "TaiChi"))
    assert truth.labels == ["Swing", "TaiChi"] and truth.single_label is None
    assert [truth.label_at(t) for t in (0.0, 2.7, 3.0, 6.0)] == ["Swing", None, "TaiChi", "TaiChi"]
    assert truth.describe() == "Swing 0–2.5 s, TaiChi 3–6 s"


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps([{"start_s": 0, "end_s": 1, "label": "TaiChi"}]),  # not an object
        json.dumps({"segments": []}),
        json.dumps({"segments": [{"start_s": 0, "end_s": 1, "label": "Biking"}]}),  # not a class of ours
        json.dumps({"segments": [{"start_s": 0, "end_s": 1}]}),
        json.dumps({"segments": [{"start_s": 2, "end_s": 1, "label": "TaiChi"}]}),
        json.dumps({"segments": [{"start_s": -1, "end_s": 1, "label": "TaiChi"}]}),
        json.dumps({"segments": [{"start_s": "0", "end_s": 1, "label": "TaiChi"}]}),
        json.dumps({"segments": [{"start_s": False, "end_s": True, "label": "TaiChi"}]}),
        json.dumps(
            {"segments": [{"start_s": 0, "end_s": 3, "label": "Swing"}, {"start_s": 2, "end_s": 4, "label": "TaiChi"}]}
        ),
        '{"segments": [{"start_s": 0, "end_s": NaN, "label": "TaiChi"}]}',
        b"\xff\xfe\x00garbage",
    ],
)
def test_a_sidecar_that_cannot_be_used_is_ignored(tmp_path, content):
    for name, expected in (("holiday.mp4", None), ("v_Swing_g01_c05.avi", "Swing")):
        video = a_video(tmp_path, name)
        side = sidecar_path(video)
        side.write_bytes(content if isinstance(content, bytes) else content.encode())
        truth = truth_of(video, CLASSES, duration_s=4.0)  # no error: as if the sidecar were not there
        assert (truth.single_label if truth else None) == expected
        assert truth is None or truth.source == FROM_FILE_NAME


def test_an_oversized_sidecar_is_ignored(tmp_path):
    video = a_video(tmp_path, "holiday.mp4")
    sidecar_path(video).write_text(
        json.dumps({"segments": [{"start_s": 0, "end_s": 1, "label": "TaiChi"}]}) + " " * 300_000
    )
    assert truth_of(video, CLASSES, 4.0) is None


def test_a_copy_of_the_shipped_mixed_example_finds_its_sidecar_and_another_file_of_that_name_does_not(tmp_path):
    upload = tmp_path / "upload" / MIXED_EXAMPLE_NAME  # what Gradio hands over: a copy, alone
    upload.parent.mkdir()
    shutil.copyfile(EXAMPLES_DIR / MIXED_EXAMPLE_NAME, upload)
    truth = truth_of(upload, CLASSES, duration_s=16.0)
    assert truth.source == "synthetic_mixed_activities.truth.json"
    assert [s.label for s in truth.segments] == ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"]
    impostor = a_video(tmp_path, MIXED_EXAMPLE_NAME)
    assert truth_of(impostor, CLASSES, 16.0) is None


def test_the_committed_mixed_sidecar_is_what_make_examples_renders():
    from har_demo.training.examples import MIXED_SECONDS, mixed_truth

    committed = read_sidecar(EXAMPLES_DIR / "synthetic_mixed_activities.truth.json", CLASSES)
    assert committed.segments == tuple(mixed_truth())
    assert all(s.end_s - s.start_s == MIXED_SECONDS for s in committed.segments)
    cap = cv2.VideoCapture(str(EXAMPLES_DIR / MIXED_EXAMPLE_NAME))
    frames = 0
    while cap.grab():
        frames += 1
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    assert committed.segments[-1].end_s == pytest.approx(frames / fps)  # the pieces cover the whole clip


def test_the_wheel_ships_the_sidecar():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["har_demo._shipped.examples"]
    assert any(fnmatch.fnmatch("synthetic_mixed_activities.truth.json", p) for p in patterns)


def test_make_examples_sidecar_writer_follows_its_classes(tmp_path):
    from har_demo.training.examples import MIXED_SECONDS, write_mixed_truth

    path = write_mixed_truth(tmp_path, ("TaiChi", "Swing"))
    assert path == tmp_path / "synthetic_mixed_activities.truth.json"
    truth = read_sidecar(path, CLASSES)
    assert truth.segments == (
        TruthSegment(0, MIXED_SECONDS, "TaiChi"),
        TruthSegment(MIXED_SECONDS, 2 * MIXED_SECONDS, "Swing"),
    )
