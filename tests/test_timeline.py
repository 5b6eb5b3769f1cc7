"""Sliding windows over a whole video: placement, sampling, batching, segments, CSV/JSON export."""

from __future__ import annotations

import csv
import io
import json

import cv2
import numpy as np
import pytest

from har_demo.clip import ClipSettings, VideoError, read_clip
from har_demo.timeline import Timeline, compute_timeline, padded_size, window_indices, window_starts

CLASSES = ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"]

pytest_plugins = ["tests.app_fixtures"]  # its session fixtures, shared by every module that asks


class BrightnessPredictor:
    """A stand-in model: 'Dark' when a window's frames are dark, 'Bright' otherwise. Records batch sizes."""

    classes = ["Dark", "Bright"]
    settings = ClipSettings()

    def __init__(self):
        self.batches = []

    def predict_frames(self, frames):
        self.batches.append(len(frames))
        bright = frames.mean(axis=(1, 2, 3, 4)) / 255.0
        p = np.stack([1 - bright, bright], axis=1).astype(np.float32)
        return {"a": p, "b": p[:, ::-1].copy()}, {"a": 0.001, "b": 0.001}


@pytest.fixture(scope="module")
def dark_then_bright(tmp_path_factory):
    """10 s at 10 fps: 50 dark frames, then 50 bright ones."""
    path = tmp_path_factory.mktemp("tl") / "dark_then_bright.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (96, 72))
    for i in range(100):
        writer.write(np.full((72, 96, 3), 20 if i < 50 else 235, dtype=np.uint8))
    writer.release()
    return path


def test_window_placement_and_sampling():
    np.testing.assert_array_equal(window_starts(100, 40, 10), [0, 10, 20, 30, 40, 50, 60])
    np.testing.assert_array_equal(window_starts(30, 40, 10), [0])  # shorter than a window: one window
    idx = window_indices(np.array([0, 10]), 40, 100, 20, "tutorial")
    np.testing.assert_array_equal(idx[0], np.arange(20) * 2)  # i * (40 // 20), like a 40-frame clip
    np.testing.assert_array_equal(idx[1], 10 + np.arange(20) * 2)
    short = window_indices(np.array([0]), 40, 5, 20, "tutorial")  # 5 frames: repeats, all in range
    assert short.shape == (1, 20) and short.max() == 4 and short.min() == 0
    assert [padded_size(n, 32) for n in (1, 3, 5, 17, 32, 40)] == [1, 4, 8, 32, 32, 40]


def test_segments_follow_the_change(dark_then_bright):
    predictor = BrightnessPredictor()
    tl = compute_timeline(dark_then_bright, predictor, window_s=2.0, stride_s=1.0)
    assert tl.fps == pytest.approx(10.0) and tl.frame_count == 100
    assert tl.windows == 9 and tl.span_frames == 20 and tl.stride_frames == 10
    np.testing.assert_allclose(tl.starts, np.arange(9) * 1.0)
    np.testing.assert_allclose(tl.ends, np.arange(9) * 1.0 + 2.0)
    segments = tl.segments("a")
    assert [s.label for s in segments] == ["Dark", "Bright"]
    assert segments[0].start_s == 0.0 and segments[-1].end_s == pytest.approx(10.0)
    assert segments[0].end_s == segments[1].start_s  # segments tile the time line
    assert 4.0 <= segments[0].end_s <= 5.5  # the change is at 5 s
    assert sum(s.windows for s in segments) == tl.windows
    assert [s.label for s in tl.segments("b")] == ["Bright", "Dark"]
    assert tl.notes == []


def test_batches_are_padded_to_few_shapes_and_give_the_same_answer(dark_then_bright):
    small = BrightnessPredictor()
    a = compute_timeline(dark_then_bright, small, window_s=2.0, stride_s=0.5, batch_size=4)
    big = BrightnessPredictor()
    b = compute_timeline(dark_then_bright, big, window_s=2.0, stride_s=0.5, batch_size=32)
    assert a.windows == b.windows == 17
    assert small.batches == [4, 4, 4, 4, 1] and big.batches == [32]  # 17 windows: 4+4+4+4+1, and 17 -> 32
    np.testing.assert_allclose(a.probabilities["a"], b.probabilities["a"])
    assert a.probabilities["a"].shape == (17, 2)


def test_exports_have_stable_columns(dark_then_bright):
    tl = compute_timeline(dark_then_bright, BrightnessPredictor(), window_s=2.0, stride_s=1.0)
    rows = list(csv.reader(io.StringIO(tl.to_csv())))
    assert rows[0] == ["window", "start_s", "end_s", "a_Dark", "a_Bright", "b_Dark", "b_Bright", "a_top", "b_top"]
    assert len(rows) == 1 + tl.windows
    assert rows[1][:3] == ["0", "0.0", "2.0"] and rows[1][-2:] == ["Dark", "Bright"]
    assert float(rows[1][3]) + float(rows[1][4]) == pytest.approx(1.0, abs=1e-5)
    data = json.loads(tl.to_json())
    assert data["classes"] == ["Dark", "Bright"] and data["models"] == ["a", "b"]
    assert data["window_s"] == 2.0 and data["stride_s"] == 1.0 and data["frames_per_window"] == 20
    assert data["sampling"] == "tutorial" and len(data["windows"]) == tl.windows
    w = data["windows"][-1]
    assert w["top"] == {"a": "Bright", "b": "Dark"} and len(w["frame_indices"]) == 20
    assert [s["label"] for s in data["segments"]["a"]] == ["Dark", "Bright"]


def test_a_video_shorter_than_the_window_is_one_window(dark_then_bright):
    tl = compute_timeline(dark_then_bright, BrightnessPredictor(), window_s=20.0, stride_s=1.0)
    assert tl.windows == 1 and "single window" in tl.notes[0]
    assert len(tl.segments("a")) == 1


def test_bad_arguments_and_bad_video(tmp_path, dark_then_bright):
    with pytest.raises(ValueError, match="longer than 0"):
        compute_timeline(dark_then_bright, BrightnessPredictor(), window_s=0, stride_s=1)
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    with pytest.raises(VideoError):
        compute_timeline(bad, BrightnessPredictor())
    with pytest.raises(VideoError, match="too long"):
        compute_timeline(dark_then_bright, BrightnessPredictor(), max_frames=50)


def test_one_window_over_a_whole_real_clip_equals_the_clip_prediction(engine, real_clips):
    """The timeline samples a window exactly as a clip is sampled: a window spanning the whole
    clip gives the Predict tab's frames and probabilities."""
    path = real_clips / "v_HorseRace_g01_c04.avi"
    tl = compute_timeline(path, engine, window_s=60.0, stride_s=1.0)
    clip = read_clip(path, engine.settings)
    assert tl.windows == 1
    np.testing.assert_array_equal(tl.frame_indices[0], clip.indices)
    prediction = engine.predict_clip(clip)
    for model in engine.predictor.models:
        np.testing.assert_allclose(tl.probabilities[model][0], prediction.probabilities[model], atol=1e-5)


def test_long_real_video_windows(engine, real_clips):
    tl = compute_timeline(real_clips / "long_mixed_activities.mp4", engine, window_s=3.0, stride_s=1.0)
    assert isinstance(tl, Timeline) and tl.frame_count == 866
    assert tl.windows == int((866 - round(3 * tl.fps)) // round(tl.fps)) + 1
    assert set(tl.probabilities) == {"convlstm", "lrcn"}
    for p in tl.probabilities.values():
        assert p.shape == (tl.windows, len(CLASSES))
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-4)
    assert tl.seconds["decode"] > 0 and tl.seconds["convlstm"] > 0


def test_timeline_figure_with_many_classes(dark_then_bright):
    from har_demo import plots

    class ManyClasses(BrightnessPredictor):
        classes = [f"class{i:02d}" for i in range(40)]

        def predict_frames(self, frames):
            rng = np.random.default_rng(len(frames))
            p = rng.dirichlet(np.ones(40) * 0.3, size=len(frames)).astype(np.float32)
            return {"a": p}, {"a": 0.001}

    tl = compute_timeline(dark_then_bright, ManyClasses(), window_s=2.0, stride_s=1.0)
    fig = plots.timeline_figure(tl)
    leaders = {tl.classes[i] for i in tl.top_indices("a")}
    drawn = {t.name for t in fig.data}
    assert leaders <= drawn and len(drawn) < 40
    heat = plots.confusion_heatmap(np.eye(40, dtype=int) * 3, tl.classes, "a")
    assert heat.layout.height < 1200
