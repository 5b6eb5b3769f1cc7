"""A classroom on one server: sessions come and go, and no visitor takes the demo down.

Real Keras models and bundles, real files on disk, the real registry and studio folders; the
clock of the registry is a plain number the test moves, so idle times take no waiting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from har_demo import request_limits as app_limits
from har_demo.app import engine as engine_mod
from har_demo.app.session_models import (
    SessionRefused,
    back_to_shipped,
    capacity_markdown,
    end_session,
    import_files,
    serve_folder,
    serve_reference,
)
from har_demo.host_limits import LimitError
from har_demo.studio.errors import LimitReached
from har_demo.studio.limits import StudioLimits
from har_demo.studio.sessions import MARKER, StudioSessions
from tests.paths import REPO

MB = 1024 * 1024


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def own(engine) -> engine_mod.Engine:
    """A session's own engine: the same models behind another Engine (what a session would hold)."""
    return engine_mod.Engine(engine.predictor, limits=engine.limits, bundle=engine.bundle)


def registry_with(engine, clock=None, **limits) -> engine_mod.EngineRegistry:
    return engine_mod.EngineRegistry(engine, app_limits.Limits(**limits), clock=clock or Clock())


# --------------------------------------------------------------------------- capacity
def test_a_full_server_evicts_the_least_recently_used_session_and_tells_it(engine):
    clock = Clock()
    registry = registry_with(engine, clock, session_models_mb=300)
    a = registry.add(own(engine), nbytes=100 * MB, owner="a")
    clock.now += 1
    b = registry.add(own(engine), nbytes=100 * MB, owner="b")
    clock.now += 1
    registry.get(a)  # a is used again: b is now the least recently used
    clock.now += 1
    c = registry.add(own(engine), nbytes=150 * MB, owner="c")
    assert registry.get(b) is engine  # b's models went: b is served the default engine
    assert registry.get(a) is not None and len(registry) == 2
    told = registry.take_notice(b)
    assert told and "set aside to make room" in told and "shipped models" in told
    assert registry.take_notice(b) is None  # told once
    assert registry.take_notice(a) is None and registry.take_notice(c) is None


def test_a_session_replacing_its_models_evicts_nobody(engine):
    clock = Clock()
    registry = registry_with(engine, clock, session_models_mb=200)
    a = registry.add(own(engine), nbytes=100 * MB, owner="a")
    clock.now += 1
    b = registry.add(own(engine), nbytes=100 * MB, owner="b")
    clock.now += 1
    registry.make_room(100 * MB, "a", replacing=a)  # a trains again: its old models make the room
    a2 = registry.add(own(engine), nbytes=100 * MB, owner="a", replacing=a)
    assert registry.get(b) is not engine and registry.get(a2) is not engine and registry.get(a) is engine
    assert registry.take_notice(b) is None and len(registry) == 2


def test_models_that_never_fit_are_refused_before_anything_is_loaded(engine):
    registry = registry_with(engine, session_models_mb=100)
    key = registry.add(own(engine), nbytes=60 * MB)
    with pytest.raises(engine_mod.SessionLimitReached, match=r"about 200 MB to serve, more than the 100 MB"):
        registry.make_room(200 * MB)
    assert len(registry) == 1 and registry.get(key) is not engine  # nobody was evicted for nothing


def test_idle_sessions_are_freed_and_told_why(engine):
    clock = Clock()
    registry = registry_with(engine, clock, session_idle_s=900)
    key = registry.add(own(engine), nbytes=10 * MB)
    clock.now += 899
    assert len(registry) == 1
    clock.now += 2
    assert len(registry) == 0
    assert "15 minutes without a request" in registry.take_notice(key)


def test_the_page_going_away_frees_its_models_and_studio_folder(engine, tmp_path, monkeypatch):
    from har_demo.app import session_models
    from har_demo.app.studio_tab import StudioState

    registry = registry_with(engine)
    mine = registry.add(own(engine), nbytes=10 * MB, owner="hash-of-alice")
    theirs = registry.add(own(engine), nbytes=10 * MB, owner="hash-of-bob")
    studio = StudioState(StudioLimits(), base=tmp_path / "studio")
    folder = studio.sessions.class_set("hash-of-alice").folder
    monkeypatch.setattr(session_models, "session_owner", lambda: "hash-of-alice")
    end_session(registry, studio)
    assert registry.get(mine) is engine and registry.get(theirs) is not engine
    assert not folder.exists()


def test_back_to_the_shipped_models_frees_the_slot(engine):
    registry = registry_with(engine)
    key = registry.add(own(engine), nbytes=10 * MB)
    new_key, text = back_to_shipped(registry, key)
    assert new_key is None and "freed for another group" in text and len(registry) == 0
    key, text = back_to_shipped(registry, None)
    assert key is None and "already serves the shipped models" in text


def test_the_train_tab_says_how_many_groups_fit_now(engine):
    registry = registry_with(engine, session_models_mb=1024)
    typical = engine_mod.engine_bytes(engine)
    assert 20 * MB < typical < 1024 * MB
    before = capacity_markdown(registry)
    registry.add(own(engine), nbytes=typical)
    after = capacity_markdown(registry)
    fits = 1024 * MB // typical
    assert f"{fits} more group" in before and f"{fits - 1} more group" in after and "1 held" in after


# --------------------------------------------------------------------------- what a visitor sends
@pytest.fixture(scope="module")
def huge_input_model(tmp_path_factory) -> Path:
    """A tiny .keras file that declares clips of 20x1024x1024x3 (the issue's 33 KB file)."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((20, 1024, 1024, 3)),
            keras.layers.TimeDistributed(keras.layers.GlobalAveragePooling2D()),
            keras.layers.LSTM(4),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    path = tmp_path_factory.mktemp("huge") / "huge.keras"
    model.save(path)
    return path


def test_a_model_declaring_huge_clips_is_refused_from_its_file_before_loading(engine, huge_input_model, tmp_path):
    assert huge_input_model.stat().st_size < 100_000
    registry = registry_with(engine)
    work = tmp_path / "har-import-work"
    work.mkdir()
    started = time.perf_counter()
    with pytest.raises(SessionRefused) as refused:
        import_files(registry, work, [huge_input_model], ["a", "b"], None)
    assert time.perf_counter() - started < 2.0  # the file's config was read; no model was built
    text = str(refused.value)
    assert "20x1024x1024x3" in text and "the most is 256 a side" in text and "not loaded" in text
    assert not work.exists() and len(registry) == 0  # the import's folder goes with the refusal


def test_an_import_leaves_no_folder_and_shows_no_server_path(engine, tutorial_weights, tmp_path):
    from har_demo.app.header import header_markdown
    from har_demo.app.models_tab import provenance_markdown

    registry = registry_with(engine)
    work = tmp_path / "har-import-secret-place"
    work.mkdir()
    files = [tutorial_weights / "seed_lrcn_keras3.h5"]
    key = import_files(registry, work, files, ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"], None)
    assert not work.exists()
    mine = registry.get(key)
    assert mine is not engine
    shown = header_markdown(mine) + provenance_markdown(mine.bundle)
    for secret in (str(tmp_path), "har-import-secret-place", str(tutorial_weights)):
        assert secret not in shown
    assert "imported files" in shown


def test_a_trained_bundle_is_served_without_its_server_path(engine, imported_bundle, tmp_path):
    import shutil

    from har_demo.app.header import header_markdown
    from har_demo.app.models_tab import provenance_markdown

    registry = registry_with(engine)
    folder = tmp_path / "studio-secret" / "bundles" / "run-001"
    shutil.copytree(imported_bundle, folder)
    key = serve_folder(registry, folder, "trained in this session", None)
    mine = registry.get(key)
    shown = header_markdown(mine) + provenance_markdown(mine.bundle)
    assert "studio-secret" not in shown and str(tmp_path) not in shown
    assert "trained in this session" in shown


@pytest.mark.parametrize("ref", ["/etc", "/etc/passwd", "~", "../weights", "/tmp", "a/b@../../etc", "weights"])
def test_the_hub_field_takes_repo_ids_only_and_answers_the_same_for_every_path(engine, ref):
    registry = registry_with(engine)
    with pytest.raises(SessionRefused) as refused:
        serve_reference(registry, ref, None)
    text = str(refused.value)
    assert text.startswith("Give a Hub model repo as OWNER/NAME")
    assert "/root" not in text and "is a file" not in text and "not a model bundle" not in text
    assert len(registry) == 0


def test_a_host_may_allow_server_folders_in_the_hub_field(engine, imported_bundle):
    registry = registry_with(engine, hub_local_paths=True)
    key = serve_reference(registry, str(imported_bundle), None)
    assert registry.get(key) is not engine


def test_the_timeline_batch_is_bounded_by_bytes(engine):
    from dataclasses import replace

    from har_demo.model_bounds import batch_windows

    assert engine.timeline_batch == 32  # the tutorial's 20x64x64x3 windows: a full batch in 96 MB
    assert batch_windows(20, 256, 256, 3, 96 * MB, 32) == 6
    assert batch_windows(64, 256, 256, 3, 48 * MB, 32) == 1
    small = engine_mod.Engine(
        engine.predictor, limits=replace(engine.limits, timeline_batch_mb=8), bundle=engine.bundle
    )
    assert small.timeline_batch == 8  # 8 MB of ~1 MB windows


# --------------------------------------------------------------------------- disk
def test_a_sessions_clips_stay_within_its_quota(tmp_path):
    sessions = StudioSessions(tmp_path / "studio", StudioLimits(session_quota_mb=1))
    set_a = sessions.class_set("alice")
    (set_a.folder / "clip.bin").write_bytes(b"x" * 700_000)
    sessions.make_room("alice", 200_000)
    with pytest.raises(LimitReached, match="over the 1 MB each session may keep"):
        sessions.make_room("alice", 400_000)


def test_the_server_budget_removes_the_oldest_idle_sessions_first(tmp_path):
    limits = StudioLimits(disk_budget_mb=2, session_idle_s=60)
    sessions = StudioSessions(tmp_path / "studio", limits)
    old = time.time() - 600
    for name, when in (("oldest", old - 100), ("old", old), ("active", time.time())):
        folder = sessions.class_set(name).folder
        (folder / "clip.bin").write_bytes(b"x" * 600_000)
        os.utime(folder / MARKER, (when, when))
    sessions.class_set("newcomer")
    sessions.make_room("newcomer", 700_000)  # 1.8 MB held + 0.7 MB: one idle session must go
    assert not (tmp_path / "studio" / "oldest").exists()
    assert (tmp_path / "studio" / "old").exists() and (tmp_path / "studio" / "active").exists()
    with pytest.raises(LimitReached, match="disk for studio clips is full"):
        sessions.make_room("newcomer", 1_500_000, busy=lambda sid: sid == "old")  # training: never removed
    assert (tmp_path / "studio" / "old").exists() and (tmp_path / "studio" / "active").exists()


def test_session_folders_of_a_process_that_is_gone_are_removed_at_start(tmp_path):
    base = tmp_path / "studio"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = base / "orphan"
    orphan.mkdir(parents=True)
    (orphan / MARKER).write_text(json.dumps({"pid": int(dead.stdout), "started": "1"}))
    foreign = base / "not-ours"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    live = StudioSessions(base, StudioLimits())
    mine = live.class_set("mine").folder
    StudioSessions(base, StudioLimits())  # a second server start in this process: its folders stay
    assert not orphan.exists() and foreign.exists() and mine.exists()
    live.end_all()
    assert not mine.exists() and foreign.exists()


# --------------------------------------------------------------------------- one home for limits
@pytest.mark.parametrize("bad", ["0", "-3", "inf", "nan", "many"])
def test_studio_limits_refuse_what_the_app_limits_refuse(bad):
    with pytest.raises(LimitError, match="HAR_STUDIO_MAX_TRAIN_SECONDS"):
        StudioLimits.from_env({"HAR_STUDIO_MAX_TRAIN_SECONDS": bad})
    with pytest.raises(LimitError, match="HAR_DEMO_PREDICT_SECONDS"):
        app_limits.Limits.from_settings({"HAR_DEMO_PREDICT_SECONDS": bad})


def test_every_limit_is_listed_in_docs_app():
    from dataclasses import fields

    text = (REPO / "docs" / "app.md").read_text()
    for field in fields(app_limits.Limits):
        assert f"`HAR_DEMO_{field.name.upper()}`" in text, field.name
    for field in fields(StudioLimits):
        assert f"`HAR_STUDIO_{field.name.upper()}`" in text, field.name


def test_a_bad_studio_limit_stops_the_app_with_a_sentence():
    env = {**os.environ, "HAR_STUDIO_MAX_CLASSES": "0", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "har_demo", "app", "--port", "1"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 2
    assert "HAR_STUDIO_MAX_CLASSES must be a finite number above 0" in done.stderr


# --------------------------------------------------------------------------- class names
HOSTILE = '<a href="https://evil.example">Walk</a>'


def test_class_names_with_markup_are_refused_for_a_session(engine, tutorial_weights, tmp_path):
    registry = registry_with(engine)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(SessionRefused) as refused:
        import_files(
            registry, work, [tutorial_weights / "seed_lrcn_keras3.h5"], [HOSTILE, "TaiChi", "Swing", "Horse"], None
        )
    assert "class name" in str(refused.value) and "<a" not in str(refused.value) and len(registry) == 0


def test_class_names_are_escaped_in_plots_verdict_tables_and_the_card(imported_bundle, tmp_path):
    import shutil

    import numpy as np

    from har_demo import plots
    from har_demo.bundle import read_manifest, write_manifest
    from har_demo.manifest import Report
    from har_demo.model_card import build_model_card
    from har_demo.report_text import per_class_markdown
    from har_demo.verdict import judge

    classes = [HOSTILE, "TaiChi", "Swing", "HorseRace"]
    probs = {"lrcn": np.array([0.7, 0.1, 0.1, 0.1])}
    bars = plots.probability_bars(classes, probs)
    confusion = plots.confusion_heatmap(np.eye(4), classes, "lrcn")
    shown = json.dumps([list(bars.data[0].y), bars.data[0].name, list(confusion.data[0].x)])
    assert "<a href" not in shown and "&lt;a href" in shown
    assert "<a href" not in judge(classes, probs).markdown()
    table = per_class_markdown(
        Report.from_dict(
            {"models": {"lrcn": {"test": {"per_class": {HOSTILE: {"precision": 1, "recall": 1, "f1": 1}}}}}}
        ),
        classes,
    )
    assert "<a href" not in table and "&lt;a href" in table
    folder = tmp_path / "bundle"
    shutil.copytree(imported_bundle, folder)
    write_manifest(folder, read_manifest(folder).model_copy(update={"classes": classes}))
    card = str(build_model_card(folder))
    assert "<a href" not in card.split("## Classes")[1]


# --------------------------------------------------------------------------- fair training
def test_a_training_pauses_for_waiting_predictions_and_that_time_is_not_its_budget():
    from types import SimpleNamespace

    from har_demo.app.engine import PREDICTIONS, predictions_waiting
    from har_demo.studio.train_job import MAX_YIELD_S, _progress_callback
    from har_demo.studio.trainer import StudioTrainer, TrainingJob, TrainOptions

    job = TrainingJob(StudioTrainer(StudioLimits()), "s", None, TrainOptions())
    config = SimpleNamespace(models=("lrcn",), epochs=1)
    callback = _progress_callback(job, config, budget_seconds=1.0, yield_to=predictions_waiting)
    callback.set_model(SimpleNamespace(stop_training=False, name="lrcn"))
    started = time.perf_counter()
    callback.on_train_batch_end(0)
    assert time.perf_counter() - started < 0.5  # nobody waits: no pause
    with PREDICTIONS:  # a visitor's prediction waits or runs
        started = time.perf_counter()
        callback.on_train_batch_end(1)
        paused = time.perf_counter() - started
    assert MAX_YIELD_S - 0.1 < paused < MAX_YIELD_S + 0.5  # paused, but never more than MAX_YIELD_S a batch
    assert not callback.out_of_time and not callback.model.stop_training  # 2 s paused > 1 s budget, not counted
