"""Synthetic dataset generator: UCF50 layout, decodable video, determinism, class-dependent motion, CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from har_demo.training import synth
from tests.paths import REPO

ROOT = REPO
NAME = re.compile(r"^v_(?P<cls>[A-Za-z]+)_g(?P<group>\d{2})_c(?P<clip>\d{2})\.avi$")
SHORT = (0.8, 1.2)  # seconds: 20-30 frames keep the tests fast


def decode(path: Path) -> tuple[np.ndarray, cv2.VideoCapture]:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), path
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    return np.stack(frames), cap


def clean_clip(class_name: str, seed: int, scene_seed: int = 0, seconds: float = 4.0) -> np.ndarray:
    """A clip without camera shake, lighting drift or noise, so pixel changes are the actors' motion."""
    scene = synth.make_scene(np.random.default_rng([scene_seed, 99]))
    return synth.render_clip(class_name, np.random.default_rng([seed, 1]), scene=scene, nuisance=False, seconds=seconds)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> synth.SynthSummary:
    out = tmp_path_factory.mktemp("synth")
    return synth.write_synthetic_dataset(out, 2, seed=5, workers=1, progress=False, seconds=SHORT)


def test_ucf50_layout_and_names(dataset: synth.SynthSummary) -> None:
    out = dataset.out
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(synth.REPORT_CLASSES)
    for name in synth.REPORT_CLASSES:
        files = sorted(p.name for p in (out / name).iterdir())
        assert files == [f"v_{name}_g01_c01.avi", f"v_{name}_g01_c02.avi"]  # 2 clips -> 1 group
        for f in files:
            m = NAME.match(f)
            assert m and m["cls"] == name
    assert len(dataset.paths) == 8 and all(p.is_file() and p.stat().st_size > 1000 for p in dataset.paths)
    assert dataset.counts == {c: 2 for c in synth.REPORT_CLASSES} and dataset.groups_per_class == 1
    assert dataset.out.name in dataset.line() and "8 clips" in dataset.line()


def test_marker_json(dataset: synth.SynthSummary) -> None:
    meta = json.loads((dataset.out / "SYNTHETIC.json").read_text())
    assert meta["synthetic"] is True and meta["generator"] == "har_demo.training.synth"
    assert meta["version"] == synth.GENERATOR_VERSION and meta["seed"] == 5
    assert meta["classes"] == list(synth.REPORT_CLASSES) and meta["total_clips"] == 8
    assert meta["counts"] == {c: 2 for c in synth.REPORT_CLASSES}


def test_videos_decode_at_320x240_25fps(dataset: synth.SynthSummary) -> None:
    for path in dataset.paths:
        frames, cap = decode(path)
        assert frames.shape[1:] == (240, 320, 3)
        assert cap.get(cv2.CAP_PROP_FRAME_WIDTH) == 320 and cap.get(cv2.CAP_PROP_FRAME_HEIGHT) == 240
        assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(25.0)
        assert 20 <= len(frames) <= 30 and int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == len(frames)


def test_groups_round_robin(tmp_path: Path) -> None:
    summary = synth.write_synthetic_dataset(
        tmp_path, 5, classes=("Swing",), groups_per_class=2, workers=1, progress=False, seconds=(0.2, 0.2)
    )
    names = [p.name for p in summary.paths]
    assert names == [
        f"v_Swing_g{g}_c{c}.avi" for g, c in (("01", "01"), ("02", "01"), ("01", "02"), ("02", "02"), ("01", "03"))
    ]
    assert not (tmp_path / "TaiChi").exists()


def test_clips_of_a_group_share_the_scene(tmp_path: Path) -> None:
    summary = synth.write_synthetic_dataset(
        tmp_path, 3, classes=("TaiChi",), groups_per_class=2, seed=27, workers=1, progress=False, seconds=(0.4, 0.4)
    )

    def layout(path: Path) -> np.ndarray:  # blurred, standardised grey: immune to lighting and shake
        grey = cv2.GaussianBlur(cv2.cvtColor(decode(path)[0][0], cv2.COLOR_BGR2GRAY), (0, 0), 6).astype(float)
        return ((grey - grey.mean()) / grey.std()).ravel()

    g1c1, g2c1, g1c2 = (layout(p) for p in summary.paths)
    same_group, other_group = np.mean(g1c1 * g1c2), np.mean(g1c1 * g2c1)  # correlations of first frames
    assert same_group > 0.8 and same_group > other_group + 0.3


def test_render_is_deterministic() -> None:
    a = synth.render_clip("HorseRace", np.random.default_rng(3), seconds=(0.4, 0.8))
    b = synth.render_clip("HorseRace", np.random.default_rng(3), seconds=(0.4, 0.8))
    c = synth.render_clip("HorseRace", np.random.default_rng(4), seconds=(0.4, 0.8))
    assert a.dtype == np.uint8 and a.shape[1:] == (240, 320, 3) and 10 <= len(a) <= 20
    np.testing.assert_array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)


def test_dataset_is_identical_for_any_worker_count(tmp_path: Path) -> None:
    kw = dict(classes=("WalkingWithDog", "Swing"), progress=False, seconds=(0.4, 0.4))
    one = synth.write_synthetic_dataset(tmp_path / "one", 1, seed=9, workers=1, **kw)
    two = synth.write_synthetic_dataset(tmp_path / "two", 1, seed=9, workers=2, **kw)
    other = synth.write_synthetic_dataset(tmp_path / "other", 1, seed=10, workers=1, **kw)
    for a, b, c in zip(one.paths, two.paths, other.paths):
        assert a.relative_to(one.out) == b.relative_to(two.out) == c.relative_to(other.out)
        fa, fb, fc = decode(a)[0], decode(b)[0], decode(c)[0]
        np.testing.assert_array_equal(fa, fb)
        assert fa.shape != fc.shape or np.abs(fa.astype(np.int16) - fc).mean() > 5


@pytest.mark.parametrize("class_name", synth.REPORT_CLASSES)
def test_every_class_moves(class_name: str) -> None:
    frames = clean_clip(class_name, seed=1, seconds=2.4).astype(np.int16)
    motion = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
    assert motion.mean() > 0.05 and (motion > 0).mean() > 0.9  # something moves in (almost) every frame


def test_motion_depends_on_the_class() -> None:
    """Same scene for all four: horses are fast, tai chi is slow, the swing returns, the walker crosses."""
    clips = {c: clean_clip(c, seed=2, scene_seed=2).astype(np.int16) for c in synth.REPORT_CLASSES}
    speed = {c: np.abs(np.diff(f, axis=0)).mean() for c, f in clips.items()}
    assert speed["HorseRace"] > 5 * speed["TaiChi"]
    assert speed["WalkingWithDog"] > 2 * speed["TaiChi"] and speed["Swing"] > 2 * speed["TaiChi"]

    def returns(frames: np.ndarray) -> float:  # how close the clip comes back to its first frame
        dist = np.abs(frames - frames[0]).mean(axis=(1, 2, 3))
        return float(dist[10:].min() / dist.max())

    assert returns(clips["Swing"]) < 0.35  # a pendulum comes back (period <= 3 s, clip 4 s)
    assert returns(clips["WalkingWithDog"]) > 0.5  # a walker never does

    scene = synth.make_scene(np.random.default_rng([2, 99]))
    m = synth.MARGIN
    moving = np.abs(clips["WalkingWithDog"] - scene.background[m:-m, m:-m]).max(-1) > 0
    xs = np.array([np.nonzero(mask)[1].mean() for mask in moving if mask.any()])
    assert abs(xs[-1] - xs[0]) > 0.3 * 320  # walker and dog cross a good part of the frame
    assert abs(np.sign(np.diff(xs)).mean()) > 0.6  # mostly in one direction


def test_nuisance_changes_pixels_not_actors() -> None:
    scene = synth.make_scene(np.random.default_rng(7))
    noisy = synth.render_clip("Swing", np.random.default_rng(8), scene=scene, seconds=0.4)
    clean = synth.render_clip("Swing", np.random.default_rng(8), scene=scene, seconds=0.4, nuisance=False)
    assert noisy.shape == clean.shape and not np.array_equal(noisy, clean)


def test_unknown_class_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="WalkingWithDog, TaiChi, Swing, HorseRace"):
        synth.render_clip("Juggling", np.random.default_rng(0))
    with pytest.raises(ValueError, match="Juggling"):
        synth.write_synthetic_dataset(tmp_path, 1, classes=("Swing", "Juggling"), workers=1, progress=False)
    assert not any(tmp_path.iterdir())  # nothing written before the check


@pytest.mark.parametrize("ext", [".mp4", ".webm"])
def test_write_video_other_containers(tmp_path: Path, ext: str) -> None:
    frames = clean_clip("Swing", seed=3, seconds=0.32)  # clean frames: VP9 encodes noise slowly
    path = tmp_path / f"clip{ext}"
    synth.write_video(path, frames)
    decoded, cap = decode(path)
    assert decoded.shape == frames.shape and cap.get(cv2.CAP_PROP_FPS) == pytest.approx(25.0)
    assert np.abs(decoded.astype(np.int16) - frames).mean() < 8  # lossy, but the same picture


def test_write_video_rejects_bad_input(tmp_path: Path) -> None:
    frames = np.zeros((3, 240, 320, 3), np.uint8)
    with pytest.raises(ValueError, match="extension"):
        synth.write_video(tmp_path / "clip.gif", frames)
    with pytest.raises(ValueError, match="uint8"):
        synth.write_video(tmp_path / "clip.avi", frames.astype(np.float32))


def test_cli(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    cmd = [sys.executable, "-m", "har_demo", "synth", str(out), "--clips-per-class", "1", "--workers", "1"]
    result = subprocess.run(
        cmd + ["--seconds", "0.4", "0.4", "--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "4 clips" in result.stdout
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.avi")) == sorted(
        f"{c}/v_{c}_g01_c01.avi" for c in synth.REPORT_CLASSES
    )
    assert (out / "SYNTHETIC.json").is_file()


def test_cli_rejects_unknown_class(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "har_demo", "synth", str(tmp_path / "ds"), "--classes", "Swing,Juggling"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Juggling" in result.stderr and "HorseRace" in result.stderr
