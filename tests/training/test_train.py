"""The README's path end to end, as real subprocesses: synth -> train -> evaluate -> predict.

Also what a run keeps and refuses: Ctrl-C (a real SIGINT) keeps the old
bundle and the checkpoints, `--resume` finishes the run, empty classes are refused by name.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from har_demo.bundle import BundleError, file_sha256, read_manifest, verify_files
from har_demo.loader import load_bundle
from tests.paths import REPO

pytestmark = pytest.mark.slow  # every test here trains models or waits for one


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO)
    if check:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("e2e")
    data, bundle, cache = base / "SynthUCF", base / "bundle", base / "cache"
    run_cli("har_demo", "synth", str(data), "--clips-per-class", "6", "--groups-per-class", "3", "--workers", "2")
    run_cli(
        "har_demo",
        "train",
        str(data),
        "--config",  # the report's recipe, with two flags overriding it
        str(REPO / "configs" / "report.toml"),
        "--epochs",
        "2",
        "--split",
        "group",
        "--out",
        str(bundle),
        "--cache-dir",
        str(cache),
        "--workers",
        "2",
    )
    return data, bundle, cache


def test_train_writes_a_complete_bundle(trained):
    data, bundle, _ = trained
    verify_files(bundle, read_manifest(bundle))
    manifest = read_manifest(bundle).to_dict()
    assert manifest["source"] == "trained" and manifest["dataset"]["synthetic"] is True
    assert manifest["split"]["kind"] == "group" and manifest["training"]["batch_size"] == 4
    assert manifest["training"]["seed"] == 27 and manifest["training"]["patience"] == 5
    assert {m: e["params"] for m, e in manifest["models"].items()} == {"convlstm": 44_524, "lrcn": 73_060}
    assert manifest["clip"]["sampling"] == "tutorial" and manifest["clip"]["color_order"] == "bgr"
    assert manifest["versions"]["keras"].startswith("3.")
    assert manifest["training"]["epochs"] == 2 and manifest["training"]["recipe"] == "report.toml"
    assert manifest["training"]["optimizer"] == "adam" and manifest["training"]["resumed"] is False
    assert not (bundle / "checkpoints").exists() and not bundle.with_name("bundle.partial").exists()
    for name in ("convlstm", "lrcn"):
        assert (bundle / f"{name}.keras").stat().st_size < 1_000_000
    report = json.loads((bundle / "report.json").read_text())
    for name in ("convlstm", "lrcn"):
        result = report["models"][name]
        test = result["test"]
        assert test["clips"] == report["split"]["test_clips"] > 0
        assert 0.0 <= test["accuracy"] <= 1.0 and test["loss"] > 0
        assert set(test["per_class"]) == set(manifest["classes"])
        assert sum(map(sum, test["confusion"])) == test["clips"]
        assert len(result["history"]["loss"]) == result["epochs_trained"] == 2
        assert "val_loss" in result["history"]
        for wrong in result["misclassified"]:
            assert wrong["true"] != wrong["predicted"]
            assert (bundle / wrong["image"]).is_file()


def test_evaluate_cli_recomputes_the_test_split(trained, tmp_path):
    data, bundle, cache = trained
    out = tmp_path / "eval.json"
    result = run_cli(
        "har_demo",
        "evaluate",
        "--bundle",
        str(bundle),
        "--data",
        str(data),
        "--cache-dir",
        str(cache),
        "--out",
        str(out),
    )
    assert "split: group" in result.stdout
    evaluation = json.loads(out.read_text())
    report = json.loads((bundle / "report.json").read_text())
    for name in ("convlstm", "lrcn"):
        assert evaluation["models"][name]["test"]["accuracy"] == report["models"][name]["test"]["accuracy"]


def test_predict_cli_json_for_many_clips(trained):
    data, bundle, _ = trained
    clips = sorted(data.glob("*/*.avi"))[:3]
    result = run_cli("har_demo", "predict", *map(str, clips), "--bundle", str(bundle), "--json")
    document = json.loads(result.stdout)
    assert len(document["clips"]) == 3
    first = document["clips"][0]
    assert set(first["models"]) == {"convlstm", "lrcn"}
    assert abs(sum(first["models"]["lrcn"]["probabilities"].values()) - 1) < 1e-3
    assert len(first["frame_indices"]) == 20
    assert {"decode", "convlstm", "lrcn"} <= set(first["seconds"])


def test_predict_cli_reports_bad_files_and_keeps_going(trained, tmp_path):
    data, bundle, _ = trained
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    good = next(data.glob("TaiChi/*.avi"))
    result = run_cli("har_demo", "predict", str(bad), str(good), "--bundle", str(bundle), check=False)
    assert result.returncode == 1
    assert "notes.mp4: error:" in result.stdout and "could not be opened" in result.stdout
    assert "frames used:" in result.stdout  # the good clip was still classified


def test_a_changed_bundle_file_is_refused(trained, tmp_path):
    import shutil

    _, bundle, _ = trained
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    with open(copy / "lrcn.keras", "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(BundleError, match="lrcn.keras does not match the hash"):
        load_bundle(copy)
    assert file_sha256(bundle / "lrcn.keras") == read_manifest(bundle).files["lrcn.keras"]


def test_optimizer_setting_is_the_optimizer_used():
    from har_demo.training.config import TrainConfig

    for name, kind in (("adam", "Adam"), ("sgd", "SGD"), ("rmsprop", "RMSprop")):
        optimizer = TrainConfig(optimizer=name, learning_rate=0.01).make_optimizer()
        assert type(optimizer).__name__ == kind and abs(float(optimizer.learning_rate) - 0.01) < 1e-9
    with pytest.raises(ValueError, match="optimizer must be one of"):
        TrainConfig(optimizer="lbfgs").make_optimizer()


def test_empty_class_is_refused_by_name_and_nothing_is_written(trained, tmp_path):
    data, _, cache = trained
    (data / "EmptyClass").mkdir(exist_ok=True)
    try:
        out = tmp_path / "b"
        result = run_cli(
            "har_demo", "train", str(data), "--classes", "TaiChi,EmptyClass", "--out", str(out),
            "--cache-dir", str(cache), check=False,
        )  # fmt: skip
    finally:
        (data / "EmptyClass").rmdir()
    assert result.returncode == 2 and "EmptyClass" in result.stderr and "hold no video files" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists() and not (tmp_path / "b.partial").exists()


def _wait_for(predicate, process: subprocess.Popen, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the run never got there"
        time.sleep(0.1)


def _units(scratch: Path) -> dict:
    try:
        return json.loads((scratch / ".har-demo-scratch").read_text()).get("units", {})
    except (OSError, json.JSONDecodeError):
        return {}


def test_ctrl_c_keeps_the_old_bundle_and_the_checkpoints_and_resume_finishes(trained, tmp_path):
    data, bundle, cache = trained
    out = tmp_path / "bundle"
    shutil.copytree(bundle, out)  # the bundle the app serves while the new one trains
    old = {p.name: file_sha256(p) for p in out.iterdir() if p.is_file()}
    args = [str(data), "--out", str(out), "--overwrite", "--cache-dir", str(cache), "--workers", "2"]
    args += ["--frames", "8", "--epochs", "8", "--patience", "20", "--split", "group"]
    scratch = tmp_path / "bundle.partial"
    process = subprocess.Popen(
        [sys.executable, "-m", "har_demo", "train", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # interrupt the second model (lrcn) once it has finished an epoch: convlstm is done by then
        _wait_for(lambda: _units(scratch).get("lrcn", {}).get("epoch", 0) >= 1, process)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr[-3000:]
    last_line = stderr.strip().splitlines()[-1]
    assert last_line.startswith("Interrupted in lrcn epoch") and "rerun with --resume" in last_line
    assert str(scratch) in last_line and "Traceback" not in stderr
    assert {p.name: file_sha256(p) for p in out.iterdir() if p.is_file()} == old  # the old bundle is intact
    verify_files(out, read_manifest(out))
    units = _units(scratch)
    assert units["convlstm"]["done"] and (scratch / "convlstm.keras").is_file()
    assert (scratch / units["lrcn"]["last"]).is_file() and (scratch / "checkpoints" / "lrcn.best.weights.h5").is_file()
    stopped_at = units["lrcn"]["epoch"]

    refused = run_cli("har_demo", "train", *args, check=False)  # a rerun without --resume keeps them
    assert refused.returncode == 2 and "rerun with --resume" in refused.stderr
    assert (scratch / units["lrcn"]["last"]).is_file()

    resumed = run_cli(
        "har_demo", "train", str(data), "--out", str(out), "--overwrite", "--resume", "--cache-dir", str(cache)
    )
    assert "convlstm: finished before the interruption" in resumed.stdout
    assert f"Training lrcn: 8 train / 8 validation clips, resuming after epoch {stopped_at}" in resumed.stdout
    manifest = read_manifest(out)
    verify_files(out, manifest)
    assert manifest.training["resumed"] is True and manifest.clip.frames == 8
    report = json.loads((out / "report.json").read_text())
    assert report["models"]["lrcn"]["resumed_after_epoch"] == stopped_at
    assert report["models"]["lrcn"]["epochs_trained"] == len(report["models"]["lrcn"]["history"]["loss"]) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]  # no scratch or old copy left
