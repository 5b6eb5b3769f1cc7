"""The Hub round trip with the REAL huggingface_hub client against tests/hub_server.py on loopback.

Push a bundle, load it by repo id, pin an older revision, load from the cache with the server
gone, refuse damaged files, explain missing repos and bad tokens, and run the two CLIs end to end.
har_demo.hub reads HF_ENDPOINT / HF_HUB_OFFLINE / HF_HUB_CACHE when it runs, so in-process tests
set them with monkeypatch; the CLI tests run subprocesses with the environment set from the start.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hub_server import HubServer

from tests.helpers import assert_round_trips, front_matter
from tests.hub_fixtures import BOB, TOKEN
from tests.paths import REPO

pytestmark = pytest.mark.slow  # every test here starts a loopback Hub server


CLASSES = ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"]
METRICS = {
    "convlstm": {"accuracy": 0.8125, "loss": 0.5432, "macro_f1": 0.8011},
    "lrcn": {"accuracy": 0.6875, "loss": 0.9012, "macro_f1": 0.6502},
}


# --------------------------------------------------------------------------- fixtures
def _write_bundle(out: Path, models: dict, *, name: str = "test-bundle", images: int = 2) -> Path:
    import cv2
    import numpy as np

    from har_demo.bundle import REPORT_NAME, new_manifest, save_models, write_manifest
    from har_demo.clip import ClipSettings

    entries = save_models(out, models)
    split = {"kind": "group", "test_fraction": 0.25, "val_fraction": 0.2, "seed": 27}
    report = {
        "split": split,
        "models": {
            m: {
                "test": {
                    **METRICS.get(m, METRICS["convlstm"]),
                    "macro_precision": 0.8,
                    "macro_recall": 0.8,
                    "per_class": {c: {"precision": 0.8, "recall": 0.8, "f1": 0.8, "support": 4} for c in CLASSES},
                    "confusion": [[4, 0, 0, 0]] * 4,
                }
            }
            for m in entries
        },
    }
    (out / REPORT_NAME).write_text(json.dumps(report))
    (out / "misclassified").mkdir(exist_ok=True)
    for i in range(images):
        cv2.imwrite(str(out / "misclassified" / f"convlstm_{i}.png"), np.full((8, 40, 3), 40 * i, np.uint8))
    manifest = new_manifest(
        name=name,
        classes=CLASSES,
        settings=ClipSettings(),
        models=entries,
        source="trained",
        dataset={"name": "synthetic-4-class", "synthetic": True, "clips": 64, "root": "/home/x"},
        split=split,
        training={"epochs": 30, "batch_size": 4, "patience": 5, "optimizer": "adam"},
    )
    write_manifest(out, manifest)
    return out


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory) -> Path:
    """A real bundle: the report's two models (untrained), a report, two misclassified strips."""
    from har_demo.models import build_convlstm, build_lrcn

    return _write_bundle(
        tmp_path_factory.mktemp("bundle") / "b", {"convlstm": build_convlstm(4), "lrcn": build_lrcn(4)}
    )


def _variant(src: Path, dst: Path, *, name: str, drop: list[str] = ()) -> Path:
    """A copy of a bundle with another name and some files removed, re-hashed."""
    from har_demo.bundle import read_manifest, write_manifest

    shutil.copytree(src, dst)
    for relative in drop:
        (dst / relative).unlink()
    write_manifest(dst, read_manifest(dst).model_copy(update={"name": name}))
    return dst


def _cli_env(hub: HubServer, home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(
        HF_ENDPOINT=hub.url,
        HF_HOME=str(home),
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_TOKEN=TOKEN,
        PYTHONPATH=str(REPO),
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _cli(args: list[str], env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def _all_stored_bytes(hub: HubServer) -> list[bytes]:
    return [data for repo in hub.repos.values() for commit in repo.commits.values() for data in commit.files.values()]


# --------------------------------------------------------------------------- push and load
def test_the_pushed_bundle_round_trips(bundle_dir):
    assert_round_trips(bundle_dir, laid_out_by_har_demo=False)  # its report.json is written without indent


def test_push_then_load_by_repo_id(hub, bundle_dir, tmp_path):
    from har_demo.hub import push_bundle, resolve_bundle, snapshot_commit, stage_upload
    from har_demo.loader import load_bundle

    pushed = push_bundle(bundle_dir, "alice/har-demo")
    assert pushed.commit == hub.head("alice/har-demo") and pushed.revision == "main"
    stored = hub.files("alice/har-demo")
    local = {p.relative_to(bundle_dir).as_posix() for p in bundle_dir.rglob("*") if p.is_file()}
    assert set(stored) == local | {"README.md", ".gitattributes"}  # ONE repo: both models, report, images, card
    assert all(stored[p] == (bundle_dir / p).read_bytes() for p in local)

    folder = resolve_bundle("alice/har-demo")
    assert snapshot_commit(folder) == pushed.commit
    assert folder.is_relative_to(Path(os.environ["HF_HUB_CACHE"]))  # the standard HF cache
    assert ".gitattributes" not in {p.name for p in folder.iterdir()}  # only the bundle's files

    bundle = load_bundle("alice/har-demo")  # the lead's loader goes through hub.resolve_bundle
    assert bundle.classes == CLASSES and set(bundle.models) == {"convlstm", "lrcn"}
    assert bundle.report.models["convlstm"].test.accuracy == METRICS["convlstm"]["accuracy"]  # read via the cache
    assert (folder / "report.json").is_symlink(), "the HF cache links snapshot files into its blob store"
    staged = stage_upload(folder, tmp_path / "again", "alice/har-demo")  # a cached bundle can be pushed on
    assert (staged / "report.json").read_bytes() == (bundle_dir / "report.json").read_bytes()
    assert bundle.models["convlstm"].count_params() == 44524 and bundle.models["lrcn"].count_params() == 73060


def test_second_push_and_pinned_older_revision(hub, bundle_dir, tmp_path):
    from har_demo.bundle import read_manifest
    from har_demo.hub import push_bundle, resolve_bundle

    first = push_bundle(bundle_dir, "alice/har-pin")
    v2 = _variant(bundle_dir, tmp_path / "v2", name="second", drop=["misclassified/convlstm_1.png"])
    second = push_bundle(v2, "alice/har-pin", commit_message="Second run")
    assert second.commit != first.commit
    assert "misclassified/convlstm_1.png" not in hub.files("alice/har-pin")  # stale bundle files are deleted

    latest = resolve_bundle("alice/har-pin")
    pinned = resolve_bundle(f"alice/har-pin@{first.commit}")
    assert read_manifest(latest).name == "second" and read_manifest(pinned).name == "test-bundle"
    assert (pinned / "misclassified" / "convlstm_1.png").is_file()
    assert not (latest / "misclassified" / "convlstm_1.png").exists()

    # A branch: --revision creates it from main and leaves main alone.
    branch = push_bundle(bundle_dir, "alice/har-pin", revision="experiments")
    assert hub.head("alice/har-pin", "experiments") == branch.commit != hub.head("alice/har-pin")
    assert read_manifest(resolve_bundle("alice/har-pin@experiments")).name == "test-bundle"


def test_offline_from_cache_when_server_is_down_or_hf_hub_offline(hub, bundle_dir, monkeypatch):
    from har_demo.hub import HubError, push_bundle, resolve_bundle

    pushed = push_bundle(bundle_dir, "alice/har-off")
    online = resolve_bundle("alice/har-off")
    assert resolve_bundle(f"alice/har-off@{pushed.commit}") == online

    calls = len(hub.requests)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # read when resolve_bundle runs
    assert resolve_bundle("alice/har-off") == online
    assert len(hub.requests) == calls, "HF_HUB_OFFLINE=1 must not touch the network"
    with pytest.raises(HubError, match="not in the local Hugging Face cache and HF_HUB_OFFLINE=1"):
        resolve_bundle("alice/never-fetched")
    monkeypatch.delenv("HF_HUB_OFFLINE")

    hub.stop()  # now a plain network failure: connection refused
    started = time.perf_counter()
    assert resolve_bundle("alice/har-off") == online
    assert resolve_bundle(f"alice/har-off@{pushed.commit}") == online
    with pytest.raises(HubError, match="Could not reach the Hub .* not in the local cache"):
        resolve_bundle("alice/never-fetched")
    assert time.perf_counter() - started < 10, "falling back to the cache must not sit in retries"


def test_damaged_cache_heals_online_and_tampered_server_file_is_refused(hub, bundle_dir, monkeypatch, tmp_path, caplog):
    from har_demo.hub import HubError, push_bundle, resolve_bundle

    push_bundle(bundle_dir, "alice/har-hash")
    folder = resolve_bundle("alice/har-hash")
    blob = (folder / "lrcn.keras").resolve()  # the snapshot entry links to a blob in the cache
    blob.write_bytes(b"bit rot")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubError, match="lrcn.keras does not match the hash"):
        resolve_bundle("alice/har-hash")
    monkeypatch.delenv("HF_HUB_OFFLINE")

    with caplog.at_level("WARNING", logger="har_demo.hub"):
        assert resolve_bundle("alice/har-hash") == folder  # online: fetched again, verified
    assert "Fetching the files again" in caplog.text
    assert (folder / "lrcn.keras").read_bytes() == (bundle_dir / "lrcn.keras").read_bytes()

    hub.tamper("alice/har-hash", "convlstm.keras", b"not the file the manifest describes")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "fresh-cache"))
    with pytest.raises(HubError, match=r"alice/har-hash .* convlstm.keras does not match the hash"):
        resolve_bundle("alice/har-hash")


def test_missing_repo_revision_private_and_gated(hub, bundle_dir, monkeypatch):
    from har_demo.hub import HubError, push_bundle, resolve_bundle

    with pytest.raises(HubError, match="No repo alice/nothing-here on http://127.0.0.1"):
        resolve_bundle("alice/nothing-here")
    pushed = push_bundle(bundle_dir, "alice/har-priv", private=True)
    with pytest.raises(HubError, match="has no revision 'v9'"):
        resolve_bundle("alice/har-priv@v9")
    with pytest.raises(HubError, match="has no revision"):
        resolve_bundle("alice/har-priv@" + "0" * 40)
    with pytest.raises(HubError, match="not a Hub bundle reference"):
        resolve_bundle("not a ref")
    hub.create_repo("alice/just-a-repo")  # exists, but holds only .gitattributes
    with pytest.raises(HubError, match="has no manifest.json: it is not a har-demo bundle"):
        resolve_bundle("alice/just-a-repo")

    monkeypatch.delenv("HF_TOKEN")  # anonymous: a private repo looks like a missing one, and says so
    with pytest.raises(HubError, match="or it is private and no token"):
        resolve_bundle("alice/har-priv")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert resolve_bundle("alice/har-priv").name == pushed.commit

    hub.create_repo("alice/har-gated", gated=True)
    push_bundle(bundle_dir, "alice/har-gated")
    monkeypatch.setenv("HF_TOKEN", BOB)
    with pytest.raises(HubError, match="gated repo"):
        resolve_bundle("alice/har-gated")


def test_lambda_model_is_refused_after_download(hub, tmp_path):
    import keras

    from har_demo.bundle import UnsafeModelError
    from har_demo.hub import push_bundle
    from har_demo.loader import load_bundle

    inputs = keras.Input((20, 64, 64, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)  # arbitrary code inside the file
    x = keras.layers.GlobalAveragePooling3D()(x)
    model = keras.Model(inputs, keras.layers.Dense(4, activation="softmax")(x))
    push_bundle(_write_bundle(tmp_path / "lam", {"convlstm": model}, images=0), "alice/har-lambda")
    with pytest.raises(UnsafeModelError, match="Lambda"):
        load_bundle("alice/har-lambda")


def test_model_card_has_metrics_classes_and_synthetic_warning(hub, bundle_dir):
    from huggingface_hub import ModelCard

    from har_demo.hub import push_bundle

    push_bundle(bundle_dir, "alice/har-card")
    text = hub.files("alice/har-card")["README.md"].decode()
    meta = front_matter(text)
    assert meta["library_name"] == "keras" and meta["pipeline_tag"] == "video-classification"
    assert {"video-classification", "action-recognition", "synthetic-data"} <= set(meta["tags"])
    [entry] = meta["model-index"]
    assert entry["name"] == "test-bundle"
    [result] = entry["results"]
    assert result["task"]["type"] == "video-classification"
    assert result["dataset"]["split"] == "test" and result["dataset"]["args"]["kind"] == "group"
    found = {(m["config"], m["type"]): m["value"] for m in result["metrics"]}
    for model, values in METRICS.items():
        assert found[(model, "accuracy")] == values["accuracy"]
        assert found[(model, "loss")] == values["loss"]
        assert found[(model, "f1")] == values["macro_f1"]
    card = ModelCard(text)  # huggingface_hub reads it back as EvalResults
    assert len(card.data.eval_results) == 6
    for word in CLASSES + ["SYNTHETIC", "20 frames of 64×64", "BGR", "group", "Intended use", "alice/har-card"]:
        assert word in text
    assert "/home/x" not in text  # the dataset's local root path stays out of the card


def test_malformed_manifest_on_the_hub_is_one_sentence_in_process_and_from_predict(
    hub, bundle_dir, tmp_path, monkeypatch
):
    """Whoever owns an unpinned repo must not be able to crash a loader: a BundleError naming the field."""
    from har_demo.hub import HubError, push_bundle, resolve_bundle

    push_bundle(bundle_dir, "alice/har-bad")
    manifest = json.loads(hub.files("alice/har-bad")["manifest.json"])
    for case, (change, words) in enumerate(
        (
            (lambda m: m["clip"].update(frames="20"), "manifest.json: clip.frames must be a whole number, got '20'"),
            (lambda m: m.update(models=["convlstm"]), "manifest.json: models must be a JSON object, got a list"),
            (
                lambda m: m["files"].update({"../../../../etc/passwd": "0" * 64}),
                "manifest.json: files['../../../../etc/passwd'] must be a path inside the bundle folder",
            ),
        )
    ):
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / f"cache{case}"))  # a cached commit is never re-read
        bad = json.loads(json.dumps(manifest))
        change(bad)
        hub.tamper("alice/har-bad", "manifest.json", json.dumps(bad).encode())
        with pytest.raises(HubError, match=re.escape(f"alice/har-bad: {words}")):
            resolve_bundle("alice/har-bad")
    hub.tamper("alice/har-bad", "manifest.json", b"[1, 2]")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache-list"))
    with pytest.raises(HubError, match="alice/har-bad: manifest.json must be a JSON object, got a list"):
        resolve_bundle("alice/har-bad")

    hub.tamper("alice/har-bad", "manifest.json", json.dumps({**manifest, "format_version": "one"}).encode())
    clip = REPO / "examples" / "synthetic_TaiChi.webm"
    result = _cli(
        ["-m", "har_demo", "predict", str(clip), "--bundle", "alice/har-bad"], _cli_env(hub, tmp_path / "home")
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "error: alice/har-bad: manifest.json: format_version must be a whole number, got 'one'" in result.stderr


# --------------------------------------------------------------------------- the push CLI
def test_push_cli_errors_are_one_clear_line_and_never_show_the_token(hub, bundle_dir, monkeypatch, capsys, tmp_path):
    import huggingface_hub.constants

    from har_demo.cli import main

    # huggingface_hub reads HF_ENDPOINT once, at import (gradio may have imported it first in this
    # process); har_demo.hub passes the endpoint explicitly, but create_repo's 403 path builds its
    # RepoUrl from the import-time constant, so point that constant at the server too.
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", hub.url)

    def push(*extra: str) -> tuple[int, str]:
        code = main(["push", "--bundle", str(bundle_dir), "--repo", "alice/har-cli", *extra])
        out, err = capsys.readouterr()
        assert TOKEN not in out + err and BOB not in out + err
        return code, out + err

    code, text = push()
    assert code == 0 and "alice/har-cli@" + hub.head("alice/har-cli") in text

    monkeypatch.setenv("HF_TOKEN", "hf_wrong_token")
    code, text = push()
    assert code == 2 and "refused the token (401" in text and "hf_wrong_token" not in text

    monkeypatch.setenv("HF_TOKEN", BOB)
    code, text = push()  # bob may not write into alice's repo
    assert code == 2 and "may not write to alice/har-cli (403)" in text
    code, text = main(["push", "--bundle", str(bundle_dir), "--repo", "alice/har-new"]), capsys.readouterr()
    assert code == 2 and "(403)" in "".join(text) and "alice/har-new" not in hub.repos

    monkeypatch.setenv("BOB_TOKEN", BOB)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    code, text = push("--token-env", "BOB_TOKEN")
    assert code == 2 and "(403)" in text

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    broken = shutil.copytree(bundle_dir, tmp_path / "broken")
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["clip"]["frames"] = "20"
    (broken / "manifest.json").write_text(json.dumps(manifest))
    code = main(["push", "--bundle", str(broken), "--repo", "alice/har-broken"])
    text = "".join(capsys.readouterr())
    assert code == 2 and "error: manifest.json: clip.frames must be a whole number, got '20'" in text
    assert "alice/har-broken" not in hub.repos  # refused before anything was sent

    hub.stop()
    code, text = push()
    assert code == 2 and "Could not reach the Hub" in text

    for data in _all_stored_bytes(hub):
        assert TOKEN.encode() not in data and BOB.encode() not in data


def test_push_cli_without_token_and_dry_run(hub, bundle_dir, tmp_path):
    env = _cli_env(hub, tmp_path / "empty-home", HF_TOKEN=None)  # no HF_TOKEN, no login cache
    result = _cli(["-m", "har_demo", "push", "--bundle", str(bundle_dir), "--repo", "alice/har-dry"], env)
    assert result.returncode == 2, result.stderr
    assert "No Hugging Face token" in result.stderr and "hf auth login" in result.stderr
    assert "Traceback" not in result.stderr

    out = tmp_path / "review"
    result = _cli(
        ["-m", "har_demo", "push", "--bundle", str(bundle_dir), "--repo", "alice/har-dry", "--dry-run", str(out)],
        _cli_env(hub, tmp_path / "home"),
    )
    assert result.returncode == 0, result.stderr
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    local = {p.relative_to(bundle_dir).as_posix() for p in bundle_dir.rglob("*") if p.is_file()}
    assert files == local | {"README.md"}
    assert "Nothing was uploaded" in result.stdout
    assert hub.requests == [] and hub.repos == {}
    assert all(TOKEN.encode() not in p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert front_matter((out / "README.md").read_text())["library_name"] == "keras"


def test_cli_push_then_predict_then_offline(hub, bundle_dir, tmp_path):
    """push (CLI) -> predict --bundle OWNER/NAME (CLI, real download) -> the cache alone, offline."""
    import cv2
    import numpy as np

    clip = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 25, (96, 72))
    for i in range(30):
        writer.write(np.full((72, 96, 3), (i * 8) % 255, np.uint8))
    writer.release()
    home = tmp_path / "home"

    result = _cli(
        ["-m", "har_demo", "push", "--bundle", str(bundle_dir), "--repo", "alice/har-e2e"], _cli_env(hub, home)
    )
    assert result.returncode == 0, result.stderr
    commit = hub.head("alice/har-e2e")
    assert f"--bundle alice/har-e2e@{commit}" in result.stdout and TOKEN not in result.stdout + result.stderr

    result = _cli(
        ["-m", "har_demo", "predict", str(clip), "--bundle", "alice/har-e2e", "--json"],
        _cli_env(hub, home, HF_TOKEN=None),
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout[result.stdout.index("{") :])
    [prediction] = document["clips"]
    assert document["bundle"] == f"alice/har-e2e@{commit[:7]}" and prediction["classes"] == CLASSES
    assert set(prediction["models"]) == {"convlstm", "lrcn"}
    assert all(abs(sum(m["probabilities"].values()) - 1) < 1e-3 for m in prediction["models"].values())
    assert any(path.startswith("/api/models/alice/har-e2e/tree/") for _, path, _ in hub.requests)

    hub.stop()
    probe = (
        "from har_demo.hub import resolve_bundle; from har_demo.loader import load_bundle;"
        "print(resolve_bundle('alice/har-e2e')); print(resolve_bundle('alice/har-e2e@" + commit + "'))"
    )
    result = _cli(["-c", probe], _cli_env(hub, home, HF_HUB_OFFLINE="1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(home / "hub" / "models--alice--har-e2e" / "snapshots" / commit)] * 2


def test_model_card_says_how_motion_frames_are_made_and_where_the_weights_started(tmp_path):
    """A studio bundle (frame differences, warm start) pushed to the Hub must say so, or others feed it wrongly."""
    from har_demo.model_card import build_model_card
    from har_demo.shipped import SHIPPED_BUNDLE

    folder = tmp_path / "studio-bundle"
    shutil.copytree(SHIPPED_BUNDLE, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["clip"]["motion"] = "difference"
    manifest["training"]["init_from"] = "weights"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    text = str(build_model_card(folder, "alice/studio"))
    assert "**motion**: each frame becomes 128 + 2 × (the frame − the frame before)" in text
    assert "started from the weights of the har-demo shipped bundle (trained on synthetic clips)" in text
    plain = str(build_model_card(SHIPPED_BUNDLE, "alice/shipped"))
    assert "**motion**" not in plain and "started from the weights" not in plain
    assert "`(1, 20, 64, 64, 3)`" in plain
