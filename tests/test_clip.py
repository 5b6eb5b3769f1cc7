"""The clip pipeline on real files: every container we promise, odd shapes, and bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from har_demo.clip import (
    ClipSettings,
    DecodeLimits,
    FrameRateTooHigh,
    NotAVideo,
    TooFewFrames,
    VideoError,
    VideoTooLarge,
    VideoTooLong,
    probe,
    read_clip,
    sample_indices,
    to_model_input,
)
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
    "make, error",
    [
        (lambda p: p, VideoError),
        (lambda p: (p.write_bytes(b""), p)[1], NotAVideo),
        (lambda p: (p.write_text("just some text, not a video\n" * 50), p)[1], NotAVideo),
        (lambda p: (p.write_bytes(np.random.default_rng(0).bytes(40_000)), p)[1], NotAVideo),
        (lambda p: (p.mkdir(), p)[1], NotAVideo),
    ],
    ids=["missing", "empty", "text", "random-bytes", "folder"],
)
def test_bad_input_raises_one_typed_error_with_a_sentence(tmp_path, make, error):
    path = make(tmp_path / "upload.avi")
    for call in (read_clip, probe):
        with pytest.raises(error) as caught:
            call(path)
        message = str(caught.value)
        assert "upload.avi" in message and message.endswith(".") and "\n" not in message


def test_truncated_avi_is_served_with_a_note_or_refused_when_too_little_is_left(tmp_path):
    good = tmp_path / "good.avi"
    write_video(good, moving_square_frames(60), fps=25)
    data = good.read_bytes()
    most = tmp_path / "most.avi"
    most.write_bytes(data[: int(len(data) * 0.8)])
    clip = read_clip(most)
    assert 20 <= clip.frame_count < 54 and clip.frames.shape == (20, 64, 64, 3)
    assert clip.notes and f"Only {clip.frame_count} of 60 frames could be decoded" in clip.notes[0]
    half = tmp_path / "half.avi"
    half.write_bytes(data[: len(data) // 2])
    with pytest.raises(TooFewFrames) as caught:
        read_clip(half)
    assert caught.value.reported == 60 and caught.value.decoded < 20 and caught.value.needed == 20


def test_truncated_mp4_without_its_index_is_not_a_video(tmp_path):
    good = tmp_path / "good.mp4"
    write_video(good, moving_square_frames(60), fps=25)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])  # mp4v writes its moov atom last
    with pytest.raises(NotAVideo):
        read_clip(cut)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".tiff", ".webp"])
def test_a_still_image_renamed_mp4_is_refused(tmp_path, ext):
    image = tmp_path / f"photo{ext}"
    assert cv2.imwrite(str(image), moving_square_frames(1)[0])
    renamed = tmp_path / "photo.mp4"
    renamed.write_bytes(image.read_bytes())
    for call in (read_clip, probe):
        with pytest.raises(NotAVideo) as caught:
            call(renamed)
        assert "photo.mp4" in str(caught.value)


def test_a_one_frame_video_is_a_still_image(tmp_path):
    path = tmp_path / "one.avi"
    write_video(path, moving_square_frames(1), fps=25)
    with pytest.raises(NotAVideo):
        read_clip(path)


def test_probe_reads_the_header_of_a_real_clip(real_clips):
    info = probe(real_clips / "v_Swing_g01_c05.avi")
    assert (info.width, info.height) == (320, 240) and info.fps == pytest.approx(25, abs=0.1)
    assert info.codec == "FMP4" and info.frame_count == read_clip(real_clips / "v_Swing_g01_c05.avi").frame_count
    assert info.duration == pytest.approx(info.frame_count / info.fps)
    assert info.size_bytes == (real_clips / "v_Swing_g01_c05.avi").stat().st_size


def test_limits_refuse_from_the_header_with_typed_errors(tmp_path):
    path = tmp_path / "clip.avi"
    write_video(path, moving_square_frames(100), fps=25)  # 4 s of 320x240
    for call in (probe, read_clip):
        with pytest.raises(VideoTooLong) as long_:
            call(path, limits=DecodeLimits(max_seconds=2))
        assert long_.value.duration == pytest.approx(4.0) and long_.value.limit == 2
        with pytest.raises(FrameRateTooHigh) as fast:
            call(path, limits=DecodeLimits(max_fps=24))
        assert fast.value.fps == pytest.approx(25) and fast.value.limit == 24
        with pytest.raises(VideoTooLarge) as large:
            call(path, limits=DecodeLimits(max_pixels=320 * 239))
        assert (large.value.width, large.value.height, large.value.limit) == (320, 240, 320 * 239)
    assert probe(path, DecodeLimits(max_seconds=4)).frame_count == 100


def test_limits_hold_when_the_header_says_nothing(tmp_path, monkeypatch):
    """A header without a count cannot be refused up front: the pass stops at the limit."""
    import har_demo.clip as clip_module

    path = tmp_path / "clip.avi"
    write_video(path, moving_square_frames(100), fps=25)
    monkeypatch.setattr(clip_module, "_reported_count", lambda cap: None)
    with pytest.raises(VideoTooLong) as caught:
        read_clip(path, limits=DecodeLimits(max_seconds=2))
    assert caught.value.limit == 2
    with pytest.raises(VideoTooLong):
        read_clip(path, limits=DecodeLimits(max_frames=60))
    assert read_clip(path, limits=DecodeLimits(max_seconds=4)).frame_count == 100


def test_the_pixel_limit_holds_when_the_header_lies(tmp_path, monkeypatch):
    import har_demo.clip as clip_module

    path = tmp_path / "clip.avi"
    write_video(path, moving_square_frames(30), fps=25)
    real_header = clip_module._header
    monkeypatch.setattr(clip_module, "_header", lambda *a: clip_module.replace(real_header(*a), width=16, height=16))
    with pytest.raises(VideoTooLarge) as caught:
        read_clip(path, limits=DecodeLimits(max_pixels=100 * 100))
    assert (caught.value.width, caught.value.height) == (320, 240)


def test_too_many_pixels_are_refused_from_the_header_before_any_frame_is_decoded(tmp_path, monkeypatch):
    import har_demo.clip as clip_module

    path = tmp_path / "huge.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (4104, 4096))
    for _ in range(2):
        writer.write(np.zeros((4096, 4104, 3), np.uint8))
    writer.release()

    def no_decoding(*args, **kwargs):
        raise AssertionError("a frame was decoded")

    monkeypatch.setattr(clip_module, "prepare_frame", no_decoding)
    monkeypatch.setattr(clip_module.FrameStream, "frames", no_decoding)
    for call in (probe, read_clip):
        with pytest.raises(VideoTooLarge) as caught:
            call(path)  # the default limit: 4096 x 4096
        assert (caught.value.width, caught.value.height) == (4104, 4096) and caught.value.limit == 4096 * 4096
        assert "4104x4096" in str(caught.value)


def test_grayscale_settings_make_one_channel_frames(tmp_path, real_clips):
    gray = ClipSettings(channels=1, frames=10, height=128, width=128)
    assert ClipSettings.from_dict(gray.to_dict()) == gray
    old_manifest = {k: v for k, v in gray.to_dict().items() if k != "channels"}
    assert ClipSettings.from_dict(old_manifest).channels == 3
    with pytest.raises(ValueError):
        ClipSettings(channels=2)
    path = real_clips / "v_TaiChi_g01_c02.avi"
    clip = read_clip(path, gray)
    colour = read_clip(path, gray.with_(channels=3))
    assert clip.frames.shape == (10, 128, 128, 1) and clip.indices == colour.indices
    expected = np.stack([cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in colour.frames])[..., None]
    np.testing.assert_array_equal(clip.frames, expected)
    x = to_model_input(clip.frames, gray)
    assert x.shape == (10, 128, 128, 1) and x.dtype == np.float32 and x.max() <= 1.0
    from_colour = to_model_input(colour.frames, gray)  # 3-channel frames given to a gray bundle
    assert from_colour.shape == x.shape and np.abs(from_colour - x).max() <= 1 / 255 + 1e-6
    assert clip.rgb().shape == (10, 128, 128, 3)


def test_too_long_video_is_refused_before_decoding_it_all(tmp_path):
    path = tmp_path / "long.avi"
    write_video(path, moving_square_frames(120), fps=25)
    with pytest.raises(VideoTooLong):
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


def test_without_a_count_memory_is_bounded_and_the_frames_are_the_same(tmp_path, monkeypatch):
    """No count (webm, GIF): frames are kept while counting only up to a bound; past it a second
    pass decodes the sampled frames, which are the same."""
    import har_demo.clip as clip_module

    path = tmp_path / "clip.avi"
    write_video(path, moving_square_frames(75), fps=25)
    honest = read_clip(path)
    monkeypatch.setattr(clip_module, "_reported_count", lambda cap: None)
    monkeypatch.setattr(clip_module, "UNKNOWN_COUNT_KEEP_BYTES", 30 * 64 * 64 * 3)  # 30 frames
    prepared = []
    real_prepare = clip_module.prepare_frame
    monkeypatch.setattr(clip_module, "prepare_frame", lambda f, s: prepared.append(1) or real_prepare(f, s))
    bounded = read_clip(path)
    assert bounded.frame_count == 75 and bounded.indices == honest.indices
    assert len(prepared) == 30 + 20  # the first 30 while counting, then the 20 sampled (not all 75)
    np.testing.assert_array_equal(bounded.frames, honest.frames)
