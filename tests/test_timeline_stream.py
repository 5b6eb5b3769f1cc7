"""The timeline streams its windows from one decoding pass: the same
windows and frames as sampling a fully decoded video, memory bounded by one window span,
the decode bounded by DecodeLimits, and truncated files treated as read_clip treats them."""

from __future__ import annotations

import tracemalloc

import cv2
import numpy as np
import pytest

from har_demo.clip import (
    ClipSettings,
    DecodeLimits,
    FrameRateTooHigh,
    TooFewFrames,
    VideoTooLong,
    prepare_frame,
    read_clip,
)
from har_demo.timeline import compute_timeline, window_indices, window_starts


class EchoPredictor:
    """Keeps each window's frames as they were given (unless `keep` is off), so a test can compare them."""

    classes = ["first", "second"]

    def __init__(self, settings: ClipSettings | None = None, keep: bool = True):
        self.settings = settings or ClipSettings()
        self.keep = keep
        self.windows: list[np.ndarray] = []
        self.batches: list[int] = []

    def predict_frames(self, frames):
        self.batches.append(len(frames))
        if self.keep:
            self.windows.extend(np.asarray(frames))
        mean = frames.reshape(len(frames), -1).mean(axis=1) / 255.0
        p = np.stack([mean, 1 - mean], axis=1).astype(np.float32)
        return {"m": p}, {"m": 0.0}


def write_counter_video(path, count: int, fps: float, size=(48, 32)) -> None:
    """Frame i is a different picture (grey level and a moving bar), so a wrong index shows."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for i in range(count):
        frame = np.full((size[1], size[0], 3), (i * 7) % 200 + 20, dtype=np.uint8)
        frame[:, (i * 3) % size[0]] = 255
        writer.write(frame)
    writer.release()


def reference_windows(path, settings: ClipSettings, window_s: float, stride_s: float):
    """What the pre-streaming code did: decode every frame, then index windows out of the stack."""
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(prepare_frame(frame, settings))
    cap.release()
    frames = np.stack(frames)
    span, stride = max(1, round(window_s * fps)), max(1, round(stride_s * fps))
    starts = window_starts(len(frames), span, stride)
    indices = window_indices(starts, span, len(frames), settings.frames, settings.sampling)
    return starts, indices, frames[indices]


@pytest.fixture(scope="module")
def counter_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("stream") / "counter.avi"
    write_counter_video(path, 75, 25.0)  # 3 s
    return path


@pytest.mark.parametrize(
    "window_s, stride_s, sampling",
    [
        (1.0, 0.25, "tutorial"),
        (2.0, 1.0, "uniform"),
        (1.6, 0.36, "tutorial"),
        (3.0, 1.0, "tutorial"),
        (5.0, 1, "uniform"),
    ],
    ids=["dense", "uniform", "odd-steps", "exactly-one-span", "shorter-than-a-window"],
)
def test_streamed_windows_equal_the_fully_decoded_ones(counter_video, window_s, stride_s, sampling):
    settings = ClipSettings(sampling=sampling, height=16, width=24)
    predictor = EchoPredictor(settings)
    tl = compute_timeline(counter_video, predictor, window_s=window_s, stride_s=stride_s, batch_size=4)
    starts, indices, frames = reference_windows(counter_video, settings, window_s, stride_s)
    np.testing.assert_array_equal(tl.start_frames, starts)
    np.testing.assert_array_equal(tl.frame_indices, indices)
    np.testing.assert_array_equal(np.stack(predictor.windows)[: tl.windows], frames)
    assert tl.frame_count == 75


@pytest.mark.parametrize("lie", [None, 10, 30, 500], ids=["no-count", "too-low", "short", "too-high"])
def test_a_lying_header_does_not_change_the_windows(counter_video, monkeypatch, lie):
    import har_demo.clip as clip_module

    honest = EchoPredictor()
    expected = compute_timeline(counter_video, honest, window_s=1.0, stride_s=0.5)
    short = EchoPredictor()
    expected_short = compute_timeline(counter_video, short, window_s=4.0, stride_s=0.5)  # one window
    monkeypatch.setattr(clip_module, "_reported_count", lambda cap: lie)
    for window_s, reference, windows in ((1.0, expected, honest.windows), (4.0, expected_short, short.windows)):
        predictor = EchoPredictor()
        tl = compute_timeline(counter_video, predictor, window_s=window_s, stride_s=0.5)
        np.testing.assert_array_equal(tl.frame_indices, reference.frame_indices)
        np.testing.assert_array_equal(np.stack(predictor.windows)[: tl.windows], np.stack(windows)[: tl.windows])


def test_memory_is_bounded_by_a_window_not_by_the_video(tmp_path):
    """50 s of tiny frames at 100 fps: 5000 frames, 61 MB of model-size frames if all were kept
    (twice that once stacked, as decode_all did). Streaming holds about one window's worth."""
    path = tmp_path / "fast.avi"
    write_counter_video(path, 5000, 100.0, size=(16, 16))
    tracemalloc.start()
    try:
        tl = compute_timeline(path, EchoPredictor(keep=False), window_s=4.0, stride_s=1.0, batch_size=8)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert tl.frame_count == 5000 and tl.windows == 47
    frame_bytes = 64 * 64 * 3
    assert peak < 1000 * frame_bytes, f"peak {peak / 2**20:.1f} MB"  # 12 MB; decode_all needed 10000 frames' worth


def test_frame_rate_and_frames_decoded_are_bounded(tmp_path, monkeypatch):
    import har_demo.clip as clip_module

    path = tmp_path / "fast.avi"
    write_counter_video(path, 300, 150.0, size=(16, 16))
    with pytest.raises(FrameRateTooHigh) as caught:
        compute_timeline(path, EchoPredictor())  # the default limits: 120 fps
    assert caught.value.fps == pytest.approx(150) and caught.value.limit == 120
    allowed = DecodeLimits(max_fps=200)
    assert compute_timeline(path, EchoPredictor(), limits=allowed).frame_count == 300
    with pytest.raises(VideoTooLong):
        compute_timeline(path, EchoPredictor(), limits=DecodeLimits(max_fps=200, max_seconds=1.0))
    monkeypatch.setattr(clip_module, "_reported_count", lambda cap: None)  # no count: the pass stops itself
    with pytest.raises(VideoTooLong):
        compute_timeline(path, EchoPredictor(), limits=DecodeLimits(max_fps=200, max_frames=100))


def cut(real_clips, tmp_path, name: str, share: float):
    data = (real_clips / name).read_bytes()
    path = tmp_path / f"cut_{share:g}_{name}"
    path.write_bytes(data[: int(len(data) * share)])
    return path


@pytest.mark.parametrize("name", ["v_TaiChi_g01_c02.avi", "v_HorseRace_g01_c04.avi"])
def test_truncated_real_clips_are_served_the_same_by_predict_and_the_timeline(real_clips, tmp_path, name):
    path = cut(real_clips, tmp_path, name, 0.5)
    clip = read_clip(path)
    tl = compute_timeline(path, EchoPredictor(), window_s=2.0, stride_s=1.0)
    assert tl.frame_count == clip.frame_count < clip.info.frame_count
    note = f"Only {clip.frame_count} of {clip.info.frame_count} frames could be decoded"
    assert any(n.startswith(note) for n in clip.notes) and any(n.startswith(note) for n in tl.notes)
    whole = read_clip(real_clips / name)
    assert whole.notes == [] and clip.info.frame_count == whole.frame_count
    # what decoded is the start of the clip, frame for frame (the last one may be half there)
    n = clip.frame_count - 1
    first = read_clip(path, ClipSettings(frames=n)).frames
    np.testing.assert_array_equal(
        first, read_clip(real_clips / name, ClipSettings(frames=whole.frame_count)).frames[:n]
    )


def test_a_clip_with_too_little_left_is_refused_by_both(real_clips, tmp_path):
    path = cut(real_clips, tmp_path, "v_TaiChi_g01_c02.avi", 0.08)
    with pytest.raises(TooFewFrames) as by_clip:
        read_clip(path)
    with pytest.raises(TooFewFrames) as by_timeline:
        compute_timeline(path, EchoPredictor())
    assert by_clip.value.decoded == by_timeline.value.decoded < 20
    assert str(by_clip.value) == str(by_timeline.value)


def test_progress_rises_to_one_and_grayscale_windows_have_one_channel(counter_video):
    seen = []
    gray = EchoPredictor(ClipSettings(channels=1, frames=10, height=16, width=16))
    tl = compute_timeline(
        counter_video, gray, window_s=1.0, stride_s=0.25, batch_size=4, progress=lambda f, m: seen.append(f)
    )
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 3
    assert gray.windows[0].shape == (10, 16, 16, 1) and tl.windows == 9
