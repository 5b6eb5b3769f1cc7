"""The functions behind each tab of the app, on real clips and real models; bad input of every kind."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from har_demo import plots
from har_demo import request_limits as limits
from har_demo.app import engine as engine_mod
from har_demo.app import media, misclassified_tab, models_tab, predict_tab, timeline_tab
from har_demo.bundle import BundleError
from har_demo.shipped import EXAMPLES_DIR as EXAMPLES

CLASSES = ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"]

pytest_plugins = ["tests.app_fixtures"]  # its session fixtures, shared by every module that asks


# --------------------------------------------------------------------------- Predict
def test_analyse_real_clip_shows_verdict_bars_frames_timing_device(engine, real_clips):
    a = predict_tab.analyse_video(engine, real_clips / "v_TaiChi_g01_c02.avi")
    assert a.ok, a.message
    assert "Both models say TaiChi" in a.verdict  # the seed models agree on this clip
    # 20 frames, in sampling order, RGB, captioned "frame N · T s"
    assert len(a.gallery) == 20
    image, caption = a.gallery[-1]
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    assert caption == "frame 152 · 6.08 s"  # tutorial sampling: i * (168 // 20), 25 fps
    assert [c for _, c in a.gallery][:2] == ["frame 0 · 0.00 s", "frame 8 · 0.32 s"]
    from har_demo.clip import read_clip

    clip = read_clip(real_clips / "v_TaiChi_g01_c02.avi", engine.settings)
    np.testing.assert_array_equal(a.gallery[3][0], clip.frames[3][..., ::-1])  # BGR model input shown as RGB
    # one figure, both models, the same class order, the top class marked
    assert isinstance(a.figure, go.Figure)
    bars = [t for t in a.figure.data if t.type == "bar"]
    assert [list(t.y) for t in bars] == [CLASSES, CLASSES]
    assert all(sum("★" in text for text in t.text) == 1 for t in bars)
    assert "★" in bars[0].text[1] and "★" in bars[1].text[1]  # TaiChi is index 1
    assert "decoding" in a.timing and "ConvLSTM" in a.timing and "LRCN" in a.timing and "total" in a.timing
    assert a.device.startswith(("CPU", "GPU"))
    assert "synthetic" in a.message  # the bundle is marked synthetic-trained: the page says so
    assert a.result["models"]["convlstm"]["top"] == "TaiChi" and len(a.result["frame_times"]) == 20


def test_analyse_synthetic_example(engine):
    a = predict_tab.analyse_video(engine, EXAMPLES / "synthetic_Swing.webm")
    assert a.ok, a.message
    assert len(a.gallery) == 20 and a.verdict
    assert "80 frames at 25 fps" in a.message


@pytest.mark.parametrize(
    "name, expected",
    [
        ("not_a_video", "could not be opened as a video"),
        ("empty", "empty (0 bytes)"),
        ("corrupt", "truncated"),
        ("garbage", "could not be opened as a video"),
    ],
)
def test_bad_input_is_a_message_not_a_crash(engine, bad_videos, name, expected):
    a = predict_tab.analyse_video(engine, bad_videos[name])
    assert not a.ok
    assert expected in a.message, a.message
    assert a.message.startswith("⚠") and a.gallery == [] and a.figure is None


def test_no_video_and_missing_file(engine, tmp_path):
    assert "No video yet" in predict_tab.analyse_video(engine, None).message
    assert "No such file" in predict_tab.analyse_video(engine, tmp_path / "gone.mp4").message


def test_too_short_clip_is_served_with_repeated_frames_and_a_notice(engine, bad_videos):
    a = predict_tab.analyse_video(engine, bad_videos["short"])
    assert a.ok, a.message
    assert len(a.gallery) == 20
    assert "Short clip" in a.message and "only 3 frames" in a.message
    assert {caption.split(" · ")[0] for _, caption in a.gallery} == {"frame 0", "frame 1", "frame 2"}


def test_size_and_duration_limits(engine, real_clips):
    clip = real_clips / "v_TaiChi_g01_c02.avi"  # 6.7 s, about 0.5 MB
    small = engine_mod.Engine(engine.predictor, limits=limits.Limits(max_upload_mb=0.1), bundle=engine.bundle)
    a = predict_tab.analyse_video(small, clip)
    assert not a.ok and "the limit is 0.1 MB" in a.message
    short = engine_mod.Engine(engine.predictor, limits=limits.Limits(predict_seconds=5))
    a = predict_tab.analyse_video(short, clip)
    assert not a.ok and "too long" in a.message and "5 s" in a.message
    t = timeline_tab.timeline_view(
        engine_mod.Engine(engine.predictor, limits=limits.Limits(timeline_seconds=3)), clip, 2, 1
    )
    assert not t.ok and "too long" in t.message
    assert "200 MB" in limits.Limits().describe() and "2 minutes" in limits.Limits().describe()
    tiny = engine_mod.Engine(engine.predictor, limits=limits.Limits(max_pixels=200 * 200), bundle=engine.bundle)
    a = predict_tab.analyse_video(tiny, clip)  # 320x240: over the host's pixel limit, refused from the header
    assert not a.ok and "320x240 pixels" in a.message and a.message.startswith("⚠")
    t = timeline_tab.timeline_view(tiny, clip, 2, 1)
    assert not t.ok and "320x240 pixels" in t.message


def test_preview_for_a_browser_and_back_to_the_original(engine, real_clips, tmp_path):
    temp = media.TempFiles(tmp_path / "temp")
    avi = real_clips / "v_Swing_g01_c05.avi"  # XVID: browsers cannot play it
    assert not media.browser_playable(avi)
    assert media.browser_playable(EXAMPLES / "synthetic_Swing.webm")
    assert temp.preview(real_clips / "long_mixed_activities.mp4") is None  # H.264 mp4 plays everywhere
    webm = temp.preview(EXAMPLES / "synthetic_Swing.webm")  # WebM: not in Safari / iOS
    assert webm is None or media.video_codec(webm) == "h264"
    preview = temp.preview(avi)
    if preview is None:
        pytest.skip("ffmpeg is not installed")
    assert preview.suffix == ".mp4" and media.video_codec(preview) == "h264"
    # gradio copies the preview into its cache: the name is what maps it back
    copied = tmp_path / "gradio-cache" / preview.name
    copied.parent.mkdir()
    copied.write_bytes(preview.read_bytes())
    assert temp.original_of(copied) == avi
    a = predict_tab.analyse_video(engine, copied, temp)
    assert a.ok and "v_Swing_g01_c05.avi" in a.message  # the original was analysed


# --------------------------------------------------------------------------- Timeline
def test_timeline_view_on_the_long_real_video(engine, real_clips, tmp_path):
    temp = media.TempFiles(tmp_path / "exports")
    t = timeline_tab.timeline_view(engine, real_clips / "long_mixed_activities.mp4", 4, 2, exports=temp)
    assert t.ok, t.message
    assert t.timeline.windows == 14  # 866 frames at 27.9 fps: starts every 56 frames while a 112-frame window fits
    csv_path, json_path = t.files
    assert csv_path.suffix == ".csv" and json_path.suffix == ".json"
    assert csv_path.read_text().splitlines()[0].startswith("window,start_s,end_s,convlstm_WalkingWithDog")
    assert len(json.loads(json_path.read_text())["windows"]) == 14
    assert list(t.segments) == ["convlstm", "lrcn"] and "ConvLSTM" in t.segments["convlstm"]
    assert "| time | activity |" in t.segments["lrcn"]
    assert "31.0 s" in t.summary and "windows of 4 s every 2 s" in t.summary
    lines = [d for d in t.figure.data if d.fill is None and d.name in CLASSES]  # the rest shade/mark segments
    assert isinstance(t.figure, go.Figure) and len(lines) == 2 * len(CLASSES)


def test_timeline_segments_fill_the_boxes_in_the_bundles_model_order():
    """A session's bundle may hold LRCN alone: its table goes in the first box, the others stay blank."""
    view = timeline_tab.TimelineView(ok=True, summary="s", segments={"lrcn": "**LRCN**: 1 segment"})
    boxes = timeline_tab.page_outputs(view)[3:]
    assert boxes == ("**LRCN**: 1 segment", "", "", "")


def test_timeline_view_refuses_bad_settings_and_bad_video(engine, real_clips, bad_videos):
    long_clip = real_clips / "long_mixed_activities.mp4"
    assert "window between" in timeline_tab.timeline_view(engine, long_clip, 0.2, 1).message
    assert "stride between" in timeline_tab.timeline_view(engine, long_clip, 4, 60).message
    assert "numbers of seconds" in timeline_tab.timeline_view(engine, long_clip, "four", 1).message
    assert "could not be opened" in timeline_tab.timeline_view(engine, bad_videos["not_a_video"], 4, 1).message
    assert "No video yet" in timeline_tab.timeline_view(engine, None, 4, 1).message


def test_temp_files_are_pruned(tmp_path):
    temp = media.TempFiles(tmp_path / "t", max_age_s=60)
    old = temp.write("a", {".csv": "x"})[0].parent
    os.utime(old, (0, 0))
    new = temp.write("b", {".csv": "y"})[0].parent
    assert not old.exists() and new.exists()


# --------------------------------------------------------------------------- Misclassifications
def test_misclassified_gallery_with_filters(reported):
    bundle = reported
    items, message = misclassified_tab.misclassified_view(bundle)
    report = bundle.report.models
    total = sum(len(r.misclassified) for r in report.values())
    assert total > 0 and len(items) == total
    assert "group split" in message
    image, caption = items[0]
    import cv2

    strip = cv2.imread(str(image))
    assert image.is_relative_to(bundle.path) and strip.shape[1] > strip.shape[0]  # a frame strip
    assert "true " in caption and "predicted" in caption and "%" in caption
    lrcn_items, _ = misclassified_tab.misclassified_view(bundle, "LRCN", misclassified_tab.ALL_CLASSES)
    assert len(lrcn_items) == len(report["lrcn"].misclassified)
    assert all(c.startswith("LRCN") for _, c in lrcn_items)
    wrong_class = report["lrcn"].misclassified[0].true
    filtered, _ = misclassified_tab.misclassified_view(bundle, misclassified_tab.ALL_MODELS, wrong_class)
    assert filtered and all(f"true {wrong_class} " in c for _, c in filtered)
    right = next(c for c in CLASSES if all(e.true != c for r in report.values() for e in r.misclassified))
    none, message = misclassified_tab.misclassified_view(bundle, misclassified_tab.ALL_MODELS, right)
    assert none == [] and "No misclassified clips match" in message
    assert misclassified_tab.model_choices(bundle) == [misclassified_tab.ALL_MODELS, "ConvLSTM", "LRCN"]
    assert misclassified_tab.class_choices(bundle) == [misclassified_tab.ALL_CLASSES] + CLASSES


def test_misclassified_when_there_are_none_or_no_report(reported, imported):
    bundle = reported
    perfect = replace(
        bundle,
        report=bundle.report.model_copy(
            update={"models": {m: r.model_copy(update={"misclassified": []}) for m, r in bundle.report.models.items()}}
        ),
    )
    items, message = misclassified_tab.misclassified_view(perfect)
    assert items == [] and "No misclassified test clips" in message
    items, message = misclassified_tab.misclassified_view(imported)
    assert items == [] and "no evaluation report" in message


# --------------------------------------------------------------------------- Models
def test_models_view_with_a_report(reported):
    bundle = reported
    m = models_tab.models_view(bundle)
    assert "trained on synthetic clips" in m.banner and "HAR_DEMO_BUNDLE" in m.banner
    assert "| ConvLSTM |" in m.table1 and "| LRCN |" in m.table1 and "group split" in m.table1
    assert "44,524" in m.table1 and "73,060" in m.table1
    assert all(f"| {c} |" in m.per_class for c in CLASSES)
    assert len(m.confusions) == 2 and all(isinstance(f, go.Figure) for f in m.confusions)
    assert isinstance(m.curves, go.Figure)
    assert len(m.layers) == 2 and "44,524 parameters" in m.layers[0] and "| ConvLSTM2D |" in m.layers[0]
    assert "73,060 parameters" in m.layers[1] and "| LSTM |" in m.layers[1]


def test_models_view_without_a_report(imported):
    bundle = imported
    m = models_tab.models_view(bundle, notice="the Hub was unreachable")
    assert "No evaluation report" in m.table1 and m.per_class == "" and m.confusions == [] and m.curves is None
    assert "seed_convlstm_keras3.h5" in m.banner and "the Hub was unreachable" in m.banner
    assert "synthetic" not in m.banner
    assert len(m.layers) == 2


# --------------------------------------------------------------------------- choosing the bundle
def test_choose_bundle_default_env_and_fallback(imported_bundle, imported, reported_bundle, reported, tmp_path):
    loaded = {str(imported_bundle): imported, str(reported_bundle): reported}

    def loader(ref):
        if str(ref) not in loaded:  # a Hub id while the Hub is down and nothing is cached
            raise BundleError("The Hub could not be reached and nothing is cached.")
        return loaded[str(ref)]

    bundle, notice = engine_mod.choose_bundle(default=imported_bundle, env={}, loader=loader)
    assert bundle is imported and notice == ""
    bundle, notice = engine_mod.choose_bundle(
        default=imported_bundle, env={"HAR_DEMO_BUNDLE": str(reported_bundle)}, loader=loader
    )
    assert bundle is reported and notice == ""
    bundle, notice = engine_mod.choose_bundle(
        "someone/unreachable@main", default=imported_bundle, env={}, loader=loader
    )
    assert bundle is imported
    assert "someone/unreachable@main" in notice and "could not be reached" in notice
    with pytest.raises(BundleError, match="HAR_DEMO_BUNDLE"):  # no weights/ and nothing else: say what to do
        engine_mod.choose_bundle(default=tmp_path / "no-weights", env={})
    with pytest.raises(BundleError, match="fallback"):
        engine_mod.choose_bundle("someone/unreachable", default=tmp_path / "no-weights", env={}, loader=loader)


# --------------------------------------------------------------------------- figures
def test_probability_bars_top_k_with_many_classes():
    classes = [f"class{i:02d}" for i in range(50)]
    rng = np.random.default_rng(0)
    probs = {m: rng.dirichlet(np.ones(50)) for m in ("convlstm", "lrcn")}
    fig = plots.probability_bars(classes, probs, top_k=5)
    bars = [t for t in fig.data if t.type == "bar"]
    shown = list(bars[0].y)
    assert 5 <= len(shown) <= 10 and shown == sorted(shown)  # bundle order kept
    for model, _trace in zip(probs, bars):
        assert classes[int(np.argmax(probs[model]))] in shown
    assert "Top" in fig.layout.title.text


def test_training_curves_and_confusion():
    fig = plots.training_curves(
        {"lrcn": {"loss": [1, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}},
        {"lrcn": 2},
    )
    assert any(t.name == "LRCN best epoch" for t in fig.data)
    fig = plots.confusion_heatmap([[2, 0], [1, 1]], ["a", "b"], "convlstm", "group split")
    assert fig.data[0].z[1][0] == 0.5 and "group split" in fig.layout.title.text
    assert plots.training_curves({}).layout.annotations  # an empty figure that says why


# --------------------------------------------------------------------------- sessions
def test_a_session_engine_is_used_for_its_key_only(engine, imported, real_clips, tmp_path):
    from har_demo.app.context import AppContext
    from har_demo.inference import Predictor

    registry = engine_mod.EngineRegistry(engine, limits.Limits(max_sessions=1))
    ctx = AppContext(registry=registry, session=None, temp=media.TempFiles(tmp_path / "t"), limits=registry.limits)
    lrcn_only = Predictor(replace(imported, models={"lrcn": imported.models["lrcn"]}), warm=False)
    key = registry.add(lrcn_only)
    clip = real_clips / "v_TaiChi_g01_c02.avi"
    *_, mine = predict_tab.predict(ctx, clip, key)
    *_, theirs = predict_tab.predict(ctx, clip, None)
    *_, stranger = predict_tab.predict(ctx, clip, "a-key-nobody-registered")
    assert set(mine["models"]) == {"lrcn"}
    assert set(theirs["models"]) == set(stranger["models"]) == {"convlstm", "lrcn"}
    assert registry.get(key) is not engine and registry.get(None) is engine
    second = registry.add(lrcn_only)  # a full server (max_sessions=1) evicts the least recently used session
    assert registry.get(key) is engine and "set aside to make room" in registry.take_notice(key)
    registry.drop(second)  # the session ended
    assert registry.get(second) is engine and len(registry) == 0
    *_, after = predict_tab.predict(ctx, clip, key)
    assert set(after["models"]) == {"convlstm", "lrcn"}


def test_the_page_holds_a_session_key_dropped_with_the_session(engine, tmp_path):
    from har_demo.app import TABS, build_demo

    registry = engine_mod.EngineRegistry(engine)
    demo = build_demo(registry, temp=media.TempFiles(tmp_path / "t"))
    session = demo.app_context.session
    assert session.value is None and session.delete_callback == registry.drop
    import copy
    import time

    from gradio.utils import safe_deepcopy

    assert copy.deepcopy(registry) is registry  # Gradio deep-copies the page's config on every page load
    started = time.perf_counter()
    safe_deepcopy(demo.config)
    assert time.perf_counter() - started < 1.0  # not a copy of the Keras models (4 s per page load)
    assert TABS[:5] == ("predict", "live", "timeline", "misclassified", "models")
    names = {d.get("api_name") for d in demo.config["dependencies"]}
    assert {"predict", "timeline", "misclassified"} <= names


def test_limits_from_the_environment_and_the_command_line():
    got = limits.Limits.from_settings(
        env={"HAR_DEMO_PREDICT_SECONDS": "60", "HAR_DEMO_MAX_SESSIONS": "2", "OTHER": "x"},
        overrides=["timeline_seconds=300"],
    )
    assert (got.predict_seconds, got.max_sessions, got.timeline_seconds) == (60.0, 2, 300.0)
    assert isinstance(got.max_sessions, int) and "1 minute" in got.describe()
    for bad in (["nope=1"], ["predict_seconds"], ["predict_seconds=soon"], ["max_sessions=0"]):
        with pytest.raises(limits.LimitError):
            limits.Limits.from_settings(env={}, overrides=bad)


def test_each_response_writes_its_frames_once_to_its_own_files(engine, tmp_path):
    """The gallery goes out as PNG files in a per-request folder, not as arrays that Gradio
    re-encodes into one content-hashed file per image (rewritten while another response streams it)."""
    import cv2

    temp = media.TempFiles(tmp_path / "t", max_folders=3)
    clip = EXAMPLES / "synthetic_Swing.webm"
    analysis = predict_tab.analyse_video(engine, clip)
    first = predict_tab.page_outputs(analysis, temp)[2]
    second = predict_tab.page_outputs(analysis, temp)[2]
    assert len(first) == len(second) == 20
    assert all(isinstance(path, str) for path, _ in first)
    assert {p for p, _ in first}.isdisjoint(p for p, _ in second)  # same frames, different files
    assert [c for _, c in first] == [c for _, c in analysis.gallery]
    np.testing.assert_array_equal(cv2.imread(first[3][0])[..., ::-1], analysis.gallery[3][0])  # lossless RGB
    for _ in range(4):  # bounded: the oldest request folders go
        predict_tab.page_outputs(analysis, temp)
    assert len([c for c in temp.root.iterdir() if c.is_dir()]) <= 3
    assert predict_tab.page_outputs(predict_tab.analyse_video(engine, None), temp)[2] == []


def test_a_cached_example_says_it_is_cached_and_a_cleared_video_clears_the_results(engine, tmp_path):
    """An example's stored first-run timing is not shown as this click's time; clearing the
    video leaves nothing of the previous clip."""
    from har_demo.app.context import AppContext

    registry = engine_mod.EngineRegistry(engine)
    ctx = AppContext(registry=registry, session=None, temp=media.TempFiles(tmp_path / "t"), limits=registry.limits)
    verdict, _bars, gallery, info, result = predict_tab.predict_example(ctx, EXAMPLES / "synthetic_Swing.webm")
    assert verdict and len(gallery) == 20
    assert "cached example" in info and "without running the models" in info and result["cached_example"]
    *_, live_info, live = predict_tab.predict(ctx, EXAMPLES / "synthetic_Swing.webm")
    assert "cached" not in live_info and "cached_example" not in live
    assert predict_tab.cleared_outputs() == (predict_tab.PROMPT, None, [], "", None)


def test_a_malformed_bundle_falls_back_to_the_default_with_a_notice(imported_bundle, imported, tmp_path):
    """A bundle whose manifest is malformed does not stop the app."""
    import shutil

    for name, edit in {
        "format-one": lambda m: {**m, "format_version": "one"},
        "frames-text": lambda m: {**m, "clip": {**m["clip"], "frames": "20"}},
        "models-list": lambda m: {**m, "models": list(m["models"])},
        "files-null": lambda m: {**m, "files": None},
        "a-list": lambda m: [m],
    }.items():
        broken = tmp_path / name
        shutil.copytree(imported_bundle, broken)
        manifest = json.loads((broken / "manifest.json").read_text())
        (broken / "manifest.json").write_text(json.dumps(edit(manifest)))
        loaded = {}

        def loader(ref, loaded=loaded):
            from har_demo.loader import load_bundle

            if str(ref) == str(imported_bundle):
                loaded["default"] = True
                return imported  # the default's real load is tested elsewhere; the broken one is loaded for real
            return load_bundle(ref)

        bundle, notice = engine_mod.choose_bundle(broken, default=imported_bundle, env={}, loader=loader)
        assert bundle is imported and loaded, name
        assert f"Could not load the bundle **{broken}**" in notice and "Showing the shipped bundle" in notice, name


def test_misclassified_strips_are_served_as_copies_never_from_the_bundle(reported, tmp_path):
    """The page gets copies of the strips; an entry pointing outside the bundle is not shown."""
    temp = media.TempFiles(tmp_path / "t")
    items, _ = misclassified_tab.misclassified_view(reported)
    served, _ = misclassified_tab.page_outputs(items, "", temp)
    assert served and all(not Path(p).is_relative_to(reported.path) for p, _ in served)
    assert all(Path(p).read_bytes() == src.read_bytes() for (p, _), (src, _) in zip(served, items))
    assert misclassified_tab.page_outputs(items, "", temp)[0] == served  # copied once
    lrcn = reported.report.models["lrcn"]
    entry = lrcn.misclassified[0].model_copy(update={"image": "../../../etc/passwd"})
    only_lrcn = {"lrcn": lrcn.model_copy(update={"misclassified": [entry]})}
    outside = replace(reported, report=reported.report.model_copy(update={"models": only_lrcn}))
    items, message = misclassified_tab.misclassified_view(outside)
    assert items == [] and "1 more have no frame strip" in message


def test_stale_temp_folders_of_dead_processes_are_removed(tmp_path):
    """Folders of a killed app go at the next start; folders the app did not write stay."""
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    stale = tmp_path / f"har-demo-{pid}-abc"
    stale.mkdir()
    (stale / media.OWNER_FILE).write_text(json.dumps({"pid": pid, "started": "1"}))
    (stale / "x.png").write_bytes(b"png")
    foreign = tmp_path / "har-demo-notes"  # same prefix, not ours: never touched
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("mine")
    alive = media.TempFiles(tmp_path / "har-demo-alive")  # this process: kept
    removed = media.clean_stale_folders(tmp_path)
    assert removed == [stale] and not stale.exists()
    assert (foreign / "thesis.txt").read_text() == "mine" and alive.root.is_dir()
    alive.remove()
    assert not alive.root.exists()
