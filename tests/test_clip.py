"""The clip pipeline on real files: every container we promise, odd shapes, and bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from har_demo.clip import ClipSettings, VideoError, read_clip, sample_indices, to_model_input
from har_demo.training.synth import write_video


def moving_square_frames(count: int, width: int = 320, height: int = 240) -> np.ndarray:
    """Frames whose index can be read back: a square moves 4 px per frame, brightness encodes i."""
    frames = np.zeros((count, height, width, 3), dtype=np.uint8)
    for i in range(count):
        frames[i, :, :] = (40, 80, 120)
        x = (i * 4) % (width - 40)
        frames[i, 100:140, x : x + 40] = (255, 255, 255)
    return frames


@pytest.mark.parametrize("ext", [".avi", ".mp4", ".mov", ".mkv", ".webm"])
def test_containers_decode_to_twenty_tutorial_frames(tmp_path, ext):
    path = tmp_path / f"clip{ext}"
    write_video(path, moving_square_frames(75), fps=25)
    clip = read_clip(path)
    assert clip.frames.shape == (20, 64, 64, 3) and clip.frames.dtype == np.uint8
    assert clip.frame_count == 75
    assert clip.indices == [i * 3 for i in range(20)]
    assert clip.fps == pytest.approx(25, abs=0.5)
    assert clip.repeated == 0 and clip.notes == []


def test_gif_reads(tmp_path):
    frames = moving_square_frames(30, 160, 120)
    images = [Image.fromarray(f[..., ::-1]) for f in frames]
    path = tmp_path / "clip.gif"
    images[0].save(path, save_all=True, append_images=images[1:], duration=40, loop=0)
    clip = read_clip(path)
    assert clip.frame_count == 30 and clip.frames.shape == (20, 64, 64, 3)


def test_vertical_and_grayscale_video(tmp_path):
    vertical = tmp_path / "vertical.mp4"
    write_video(vertical, np.ascontiguousarray(moving_square_frames(40).transpose(0, 2, 1, 3)), fps=30)
    clip = read_clip(vertical)
    assert clip.source_size == (240, 320) and clip.frames.shape == (20, 64, 64, 3)

    gray = tmp_path / "gray.avi"
    writer = cv2.VideoWriter(str(gray), cv2.VideoWriter_fourcc(*"MJPG"), 25, (320, 240), isColor=False)
    for frame in moving_square_frames(30):
        writer.write(frame[..., 0])
    writer.release()
    clip = read_clip(gray)
    assert clip.frames.shape == (20, 64, 64, 3)


def test_short_clip_is_served_with_repeated_frames_and_a_note(tmp_path):
    path = tmp_path / "short.avi"
    write_video(path, moving_square_frames(7), fps=25)
    clip = read_clip(path)
    assert clip.frames.shape[0] == 20
    assert clip.frame_count == 7 and clip.repeated == 13
    assert sorted(set(clip.indices)) == list(range(7)) and clip.indices == sorted(clip.indices)
    assert "only 7 frames" in clip.notes[0]


def test_sampling_modes():
    assert sample_indices(168, 20, "tutorial") == [i * 8 for i in range(20)]
    uniform = sample_indices(168, 20, "uniform")
    assert uniform[0] == 0 and uniform[-1] == 167 and len(uniform) == 20
    assert sample_indices(20, 20, "tutorial") == list(range(20))


def test_frames_match_seek_based_reads_on_real_clips(real_clips):
    """The sequential pass must produce exactly the frames the tutorial got by seeking."""
    path = real_clips / "v_Swing_g01_c05.avi"
    clip = read_clip(path)
    cap = cv2.VideoCapture(str(path))
    for position in (0, 7, 19):
        cap.set(cv2.CAP_PROP_POS_FRAMES, clip.indices[position])
        ok, frame = cap.read()
        assert ok
        np.testing.assert_array_equal(clip.frames[position], cv2.resize(frame, (64, 64)))
    cap.release()


def test_settings_change_colour_order_size_and_scaling(real_clips):
    path = real_clips / "v_TaiChi_g01_c02.avi"
    bgr = read_clip(path)
    rgb = read_clip(path, ClipSettings(color_order="rgb", height=32, width=48, sampling="uniform"))
    assert rgb.frames.shape == (20, 32, 48, 3) and rgb.indices[-1] == rgb.frame_count - 1
    np.testing.assert_array_equal(bgr.rgb(), bgr.frames[..., ::-1])
    x = to_model_input(bgr.frames, bgr.settings)
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p, "No such file"),
        (lambda p: (p.write_bytes(b""), p)[1], "empty"),
        (lambda p: (p.write_text("just some text, not a video\n" * 50), p)[1], "could not be opened"),
        (lambda p: (p.write_bytes(np.random.default_rng(0).bytes(40_000)), p)[1], "could not be opened"),
    ],
    ids=["missing", "empty", "text", "random-bytes"],
)
def test_bad_input_raises_one_clear_error(tmp_path, make, message):
    path = make(tmp_path / "upload.avi")
    with pytest.raises(VideoError, match=message):
        read_clip(path)


def test_truncated_files_are_refused(tmp_path):
    for ext in (".avi", ".mp4"):
        good = tmp_path / f"good{ext}"
        write_video(good, moving_square_frames(60), fps=25)
        cut = tmp_path / f"cut{ext}"
        cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        with pytest.raises(VideoError, match="truncated|could not be opened|corrupt"):
            read_clip(cut)


def test_too_long_video_is_refused_before_decoding_it_all(tmp_path):
    path = tmp_path / "long.avi"
    write_video(path, moving_square_frames(120), fps=25)
    with pytest.raises(VideoError, match="too long"):
        read_clip(path, max_frames=50)
    assert read_clip(path, max_frames=200).frame_count == 120


@pytest.mark.parametrize("lie", [None, 40, 74], ids=["no-count", "too-low", "off-by-one"])
def test_a_lying_frame_count_does_not_change_the_frames(tmp_path, monkeypatch, lie):
    """webm/VP9, GIF and some mp4 report 0 or wrong counts; the pass counts for itself."""
    import har_demo.clip as clip_module

    path = tmp_path / "clip.avi"
    write_video(path, moving_square_frames(75), fps=25)
    honest = read_clip(path)
    monkeypatch.setattr(clip_module, "_reported_count", lambda cap: lie)
    lied_to = read_clip(path)
    assert lied_to.frame_count == 75 and lied_to.indices == honest.indices
    np.testing.assert_array_equal(lied_to.frames, honest.frames)
