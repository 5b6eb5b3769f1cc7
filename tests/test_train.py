"""The README's path end to end, as real subprocesses: synth -> train -> evaluate -> predict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from har_demo.bundle import BundleError, file_sha256, read_manifest, verify_files
from har_demo.loader import load_bundle


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("e2e")
    data, bundle, cache = base / "SynthUCF", base / "bundle", base / "cache"
    run_cli("har_demo", "synth", str(data), "--clips-per-class", "6", "--groups-per-class", "3", "--workers", "2")
    run_cli(
        "training",
        "train",
        str(data),
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
    assert not (bundle / "checkpoints").exists()
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
