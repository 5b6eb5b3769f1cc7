"""`har-demo timeline`: the Timeline tab's numbers for a folder of videos, as files.

The verb's files equal the tab's downloads (plus the true label and, with --smooth, the smoothed
class), the Python call returns the same table, and whatever the app refuses from a file's size
or header, or a window out of range, is refused before Keras is imported."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from har_demo.cli import main
from har_demo.observations import UNKNOWN, load_npz, observe, render
from har_demo.request_limits import Limits
from har_demo.shipped import EXAMPLES_DIR, MIXED_EXAMPLE_NAME
from tests.paths import REPO

MIXED = EXAMPLES_DIR / MIXED_EXAMPLE_NAME
TIMELINE_LIMITS = Limits().decode_limits(Limits().timeline_seconds)


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def videos(tmp_path_factory, real_clips) -> Path:
    """A folder of recordings: the mixed example with its sidecar, a real UCF50 clip in a sub-folder,
    a note that is no video (a folder expands to its videos only) and a real clip cut short (its
    header is fine, its frames run out while it is decoded)."""
    folder = tmp_path_factory.mktemp("recordings")
    whole = (real_clips / "v_TaiChi_g01_c02.avi").read_bytes()
    (folder / "cut_short.avi").write_bytes(whole[: len(whole) // 10])
    shutil.copy(MIXED, folder)
    shutil.copy(MIXED.with_name("synthetic_mixed_activities.truth.json"), folder)
    (folder / "day2").mkdir()
    shutil.copy(real_clips / "v_TaiChi_g01_c02.avi", folder / "day2")
    (folder / "notes.txt").write_text("recorded on Tuesday")
    return folder


@pytest.fixture(scope="module")
def written(tmp_path_factory, videos, imported_bundle) -> Path:
    """The verb run once over the folder, one CSV per video; the clip cut short fails, alone.
    Progress bars (tqdm) and errors go to stderr."""
    out = tmp_path_factory.mktemp("out")
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        code = main(["timeline", str(videos), "--bundle", str(imported_bundle), "--out", str(out)])
    assert code == 1
    assert f"error: {videos / 'cut_short.avi'}: cut_short.avi is truncated or damaged" in errors.getvalue()
    assert "synthetic_mixed_activities.webm: 100%|" in errors.getvalue()  # its progress bar, finished
    return out


def test_a_folder_gives_one_file_per_video_and_a_damaged_one_none(written):
    assert sorted(p.name for p in written.iterdir()) == [
        "synthetic_mixed_activities_timeline.csv",
        "v_TaiChi_g01_c02_timeline.csv",
    ]


def test_the_verbs_file_holds_the_timeline_tabs_numbers(written, videos, predictor):
    from har_demo.app.engine import Engine
    from har_demo.app.media import TempFiles
    from har_demo.app.timeline_tab import timeline_view

    engine = Engine(predictor)
    temp = TempFiles(root=written.parent / "tab")
    view = timeline_view(engine, videos / MIXED_EXAMPLE_NAME, 4.0, 1.0, exports=temp)
    assert view.ok
    (tab_csv,) = [p for p in view.files if p.suffix == ".csv"]
    tab_rows = read_csv(tab_csv.read_text())
    verb_text = (written / "synthetic_mixed_activities_timeline.csv").read_text()
    verb_rows = read_csv(verb_text)
    assert len(verb_rows) == len(tab_rows) == view.timeline.windows == 13
    header = verb_text.splitlines()[0].split(",")
    assert header == tab_csv.read_text().splitlines()[0].split(",") + ["true"]  # columns added, none changed
    for tab, verb in zip(tab_rows, verb_rows):
        assert {k: verb[k] for k in tab} == tab
    # The truth comes from the sidecar, at each window's centre: 4 s per activity, windows 4 s every 1 s.
    centres = [(float(r["start_s"]) + float(r["end_s"])) / 2 for r in verb_rows]
    truth = ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"]
    assert [r["true"] for r in verb_rows] == [truth[min(int(c // 4), 3)] for c in centres]


def test_the_python_call_returns_the_same_table(written, videos, predictor):
    obs = observe(videos / MIXED_EXAMPLE_NAME, predictor, window_s=4.0, stride_s=1.0, limits=TIMELINE_LIMITS)
    assert obs.to_csv() == (written / "synthetic_mixed_activities_timeline.csv").read_text()
    taichi = observe(videos / "day2" / "v_TaiChi_g01_c02.avi", predictor, limits=TIMELINE_LIMITS)
    assert taichi.to_csv() == (written / "v_TaiChi_g01_c02_timeline.csv").read_text()
    assert set(taichi.true_labels()) == {"TaiChi"}  # from the UCF50 file name


def test_combined_npz_and_json_with_smoothing(tmp_path, videos, imported_bundle, predictor):
    clips = [str(videos / MIXED_EXAMPLE_NAME), str(videos / "day2")]
    code = main(["timeline", *clips, "--bundle", str(imported_bundle), "--out", str(tmp_path)]
                + ["--format", "npz", "--combined", "--smooth", "--quiet"])  # fmt: skip
    assert code == 0
    arrays = load_npz(tmp_path / "timelines.npz")
    mixed = observe(videos / MIXED_EXAMPLE_NAME, predictor, limits=TIMELINE_LIMITS, stickiness=0.9)
    taichi = observe(videos / "day2" / "v_TaiChi_g01_c02.avi", predictor, limits=TIMELINE_LIMITS, stickiness=0.9)
    lengths = [mixed.timeline.windows, taichi.timeline.windows]
    assert arrays["lengths"].tolist() == lengths  # hmmlearn's `lengths`
    assert arrays["video"].tolist() == [0] * lengths[0] + [1] * lengths[1]
    assert arrays["models"].tolist() == ["convlstm", "lrcn"] and arrays["classes"].tolist() == predictor.classes
    assert arrays["probabilities"].shape == (2, sum(lengths), 4)
    np.testing.assert_allclose(arrays["probabilities"][1, : lengths[0]], mixed.timeline.probabilities["lrcn"])
    np.testing.assert_array_equal(arrays["top"][0, lengths[0] :], taichi.timeline.top_indices("convlstm"))
    np.testing.assert_array_equal(arrays["smoothed"][1, : lengths[0]], mixed.smoothed_indices()["lrcn"])
    assert arrays["true"].tolist() == mixed.true_indices().tolist() + [predictor.classes.index("TaiChi")] * lengths[1]
    assert UNKNOWN not in arrays["true"].tolist()

    document = json.loads(render([(clips[0], mixed), (clips[1], taichi)], "json"))  # what --format json writes
    first = document["videos"][0]
    assert first["video"] == clips[0] and first["smoothing"] == {"method": "viterbi", "stickiness": 0.9}
    assert first["truth"]["source"] == "synthetic_mixed_activities.truth.json"
    window = first["windows"][5]
    assert window["smoothed"]["lrcn"] == predictor.classes[int(arrays["smoothed"][1, 5])]
    assert window["probabilities"] == mixed.to_dict()["windows"][5]["probabilities"]


# --------------------------------------------------------------------------- refusals, before Keras
def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The verb in a fresh interpreter; prints whether Keras or TensorFlow was imported."""
    code = (
        "import sys; from har_demo.cli import main; code = main(sys.argv[1:]); "
        "print('loaded:', sorted(m for m in ('keras', 'tensorflow') if m in sys.modules)); sys.exit(code)"
    )
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", code, "timeline", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60
    )


def test_files_the_app_refuses_are_refused_before_keras_loads(tmp_path):
    (tmp_path / "notes.txt").write_text("not a video")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (tmp_path / "empty").mkdir()
    result = run_cli("notes.txt", "photo.png", "missing.mp4", "empty", str(MIXED), cwd=tmp_path)
    assert result.returncode == 2
    assert "loaded: []" in result.stdout
    errors = result.stderr.splitlines()
    assert any(e.startswith("error: notes.txt: notes.txt could not be opened as a video") for e in errors)
    assert any(e.startswith("error: photo.png: photo.png is a PNG image, not a video") for e in errors)
    assert "error: missing.mp4: No such file: missing.mp4." in errors
    assert "error: empty: there is no video in this folder." in errors
    assert not list(tmp_path.glob("*_timeline.*"))  # nothing written for the good one either


def test_the_apps_limits_apply(tmp_path):
    result = run_cli(str(MIXED), "--limit", "timeline_seconds=5", cwd=tmp_path)
    assert result.returncode == 2 and "loaded: []" in result.stdout
    assert "is too long" in result.stderr and "the limit here is 5 s." in result.stderr
    result = run_cli(str(MIXED), "--limit", "timeline_minutes=5", cwd=tmp_path)
    assert result.returncode == 2 and "There is no limit called 'timeline_minutes'" in result.stderr


@pytest.mark.parametrize(("window", "stride"), [(30.0, 1.0), (4.0, 0.1), (0.5, 1.0)])
def test_a_window_or_stride_out_of_range_is_refused_in_the_tabs_words(tmp_path, window, stride):
    from har_demo.app.timeline_tab import timeline_view

    class LimitsOnly:  # timeline_view reads the limits, then refuses before any model is asked
        limits = Limits()

    view = timeline_view(LimitsOnly(), str(MIXED), window, stride)
    assert not view.ok
    result = run_cli(str(MIXED), "--window", str(window), "--stride", str(stride), cwd=tmp_path)
    assert result.returncode == 2 and "loaded: []" in result.stdout
    assert result.stderr.strip() == "error: " + view.message.removeprefix("⚠ ").strip()


def test_existing_files_are_kept_and_clashing_names_refused(tmp_path, videos):
    (tmp_path / "synthetic_mixed_activities_timeline.csv").write_text("mine")
    result = run_cli(str(MIXED), "--out", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "is already there (--force replaces it)" in result.stderr
    assert (tmp_path / "synthetic_mixed_activities_timeline.csv").read_text() == "mine"
    result = run_cli(str(MIXED), str(videos / MIXED_EXAMPLE_NAME), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert result.returncode == 2 and "would both write synthetic_mixed_activities_timeline.csv" in result.stderr
    result = run_cli(str(MIXED), "--stickiness", "1.0", cwd=tmp_path)
    assert result.returncode == 2 and "stickiness must be at least 0 and below 1" in result.stderr


def test_the_verb_is_listed():
    result = subprocess.run(
        [sys.executable, "-m", "har_demo", "--help"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert "timeline  per-window probabilities of long videos, as HMM observations" in result.stdout


def test_the_tabs_smoothed_row_matches_the_verbs_smoothed_column(tmp_path, real_clips, predictor):
    from har_demo.app.engine import Engine
    from har_demo.app.media import TempFiles
    from har_demo.app.timeline_tab import timeline_view
    from har_demo.names import display_name

    long_video = real_clips / "long_mixed_activities.mp4"
    view = timeline_view(Engine(predictor), long_video, 4.0, 1.0, exports=TempFiles(root=tmp_path))
    obs = observe(long_video, predictor, window_s=4.0, stride_s=1.0, limits=TIMELINE_LIMITS, stickiness=0.9)
    for model in obs.models:
        plain, smoothed = view.segments[model].split("\n\n*")
        assert smoothed.startswith(f"{display_name(model)}, smoothed (HMM, stickiness 0.9)*")
        rows = [line.split(" | ")[1] for line in smoothed.splitlines() if line.startswith("| ") and " s |" in line]
        expected = [s.label for s in obs.timeline.segments(model, obs.smoothed_indices()[model])]
        assert rows == expected
        plain_rows = [line for line in plain.splitlines() if line.startswith("| ") and " s |" in line]
        assert len(rows) < len(plain_rows)  # the seed models flicker on this real video; smoothing merges
