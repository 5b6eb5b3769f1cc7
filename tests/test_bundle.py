"""Local bundles: the typed manifest and report, malformed bundles refused with a sentence, hash gaps closed.

Every refusal is a BundleError subclass whose message names the file and the field; nothing else
(ValueError, TypeError, KeyError, JSONDecodeError) may escape `load_bundle`. The bundle here is
real: two small Keras models of the right input and output shapes, saved and hashed by the same
code that writes trained bundles.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from har_demo.bundle import (
    BundleError,
    BundleFileError,
    ManifestError,
    UnsafeModelError,
    new_manifest,
    read_manifest,
    save_models,
    write_manifest,
    write_report,
)
from har_demo.clip import ClipSettings
from har_demo.loader import load_bundle
from har_demo.manifest import Manifest, NewerFormatError, Report
from har_demo.names import REPORT_CLASSES
from tests.helpers import assert_round_trips
from tests.paths import REPO

CLASSES = list(REPORT_CLASSES)


def _tiny_model(seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((20, 64, 64, 3))
    x = keras.layers.GlobalAveragePooling3D()(inputs)
    return keras.Model(inputs, keras.layers.Dense(len(CLASSES), activation="softmax")(x))


def _report(models: list[str]) -> dict:
    return {
        "split": {"kind": "group", "test_fraction": 0.25, "val_fraction": 0.2, "seed": 27, "test_clips": 8},
        "dataset": {"name": "tiny", "synthetic": True, "clips": 32},
        "models": {
            m: {
                "history": {"loss": [1.4, 1.1], "val_loss": [1.3, 1.2]},
                "epochs_trained": 2,
                "best_epoch": 2,
                "params": 16,
                "test": {
                    "clips": 8,
                    "accuracy": 0.75,
                    "loss": 0.61,
                    "macro_f1": 0.7,
                    "per_class": {c: {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 2} for c in CLASSES},
                    "confusion": [[2, 0, 0, 0], [0, 2, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1]],
                },
                "misclassified": [
                    {
                        "clip": "Swing/v_Swing_g01_c01.avi",
                        "true": "Swing",
                        "predicted": "WalkingWithDog",
                        "confidence": 0.4,
                        "probabilities": dict(zip(CLASSES, (0.4, 0.2, 0.3, 0.1))),
                        "image": f"misclassified/{m}_v_Swing_g01_c01.jpg",
                    }
                ],
            }
            for m in models
        },
    }


@pytest.fixture(scope="module")
def good_bundle(tmp_path_factory) -> Path:
    """A real, valid bundle: two small models, a report with frame strips, hashed by write_manifest."""
    out = tmp_path_factory.mktemp("bundles") / "good"
    entries = save_models(out, {"convlstm": _tiny_model(1), "lrcn": _tiny_model(2)})
    (out / "misclassified").mkdir()
    for m in entries:
        (out / "misclassified" / f"{m}_v_Swing_g01_c01.jpg").write_bytes(b"\xff\xd8 a frame strip")
    write_report(out, _report(list(entries)))
    manifest = new_manifest(
        name="tiny",
        classes=CLASSES,
        settings=ClipSettings(),
        models=entries,
        source="trained",
        dataset={"name": "tiny", "synthetic": True, "clips": 32},
        split={"kind": "group", "test_fraction": 0.25, "val_fraction": 0.2, "seed": 27},
        training={"epochs": 2, "batch_size": 4},
    )
    write_manifest(out, manifest)
    return out


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _edit_manifest(folder: Path, change) -> None:
    """Rewrite manifest.json as raw JSON, around the validating reader (what a hostile author can do)."""
    path = folder / "manifest.json"
    data = json.loads(path.read_text())
    replaced = change(data)  # a change returns a new document, or None after editing this one
    data = data if replaced is None else replaced
    path.write_text(json.dumps(data, indent=2))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refusal(ref) -> BundleError:
    """load_bundle's refusal: a BundleError, never another exception."""
    with pytest.raises(BundleError) as caught:
        load_bundle(ref)
    return caught.value


# --------------------------------------------------------------------------- the format stays
@pytest.mark.parametrize("made_by", ["weights", "good_bundle", "imported_bundle", "reported_bundle"])
def test_every_bundle_round_trips_byte_for_byte(made_by, request):
    """The shipped bundle, and the bundles the fixtures write through new_manifest and write_manifest."""
    assert_round_trips(REPO / "weights" if made_by == "weights" else request.getfixturevalue(made_by))


def test_typed_fields_of_the_shipped_bundle():
    manifest = Manifest.from_json((REPO / "weights" / "manifest.json").read_text())
    report = Report.from_json((REPO / "weights" / "report.json").read_text())
    assert manifest.classes == CLASSES and manifest.clip == ClipSettings() and manifest.synthetic
    assert {m: e.params for m, e in manifest.models.items()} == {"convlstm": 44_524, "lrcn": 73_060}
    assert manifest.model_sha256("lrcn") == manifest.files["lrcn.keras"]
    assert manifest.split["kind"] == "group" and manifest.training["patience"] == 10
    raw = json.loads((REPO / "weights" / "report.json").read_text())["models"]["lrcn"]  # the figures, as written
    lrcn = report.models["lrcn"]
    assert lrcn.test.accuracy == raw["test"]["accuracy"] and lrcn.best_epoch == raw["best_epoch"]
    assert lrcn.test.per_class["TaiChi"].support == raw["test"]["per_class"]["TaiChi"]["support"]
    assert len(lrcn.test.confusion) == 4 and lrcn.misclassified[0].true == raw["misclassified"][0]["true"]
    assert report.split_kind == "group" and report.synthetic


def test_new_manifest_keeps_the_key_order_and_extra_entries(good_bundle, tmp_path):
    data = json.loads((good_bundle / "manifest.json").read_text())
    assert list(data) == [
        "format",
        "format_version",
        "name",
        "created",
        "source",
        "classes",
        "clip",
        "models",
        "dataset",
        "split",
        "training",
        "versions",
        "files",
    ]
    # imported bundles carry `imported_from` before `files`; an unknown key survives a rewrite
    folder = _copy(good_bundle, tmp_path / "b")
    sources = {"lrcn": {"file": "seed_lrcn.h5", "sha256": "ab" * 32}}
    data = json.loads((folder / "manifest.json").read_text())
    files = data.pop("files")
    data.update(imported_from=sources, future_key=[1, 2], files=files)
    text = json.dumps(data, indent=2) + "\n"
    (folder / "manifest.json").write_text(text)
    manifest = read_manifest(folder)
    assert manifest.imported_from == sources and manifest.extra == {"future_key": [1, 2]}
    assert manifest.to_json() == text
    written = write_manifest(folder, manifest)
    assert (folder / "manifest.json").read_text() == text and written.files == manifest.files


def test_a_minimal_older_manifest_loads_and_writes_back_without_new_keys(good_bundle, tmp_path):
    folder = _copy(good_bundle, tmp_path / "b")
    data = json.loads((folder / "manifest.json").read_text())
    minimal = {k: data[k] for k in ("format", "classes", "clip", "models", "files")}  # no format_version, dataset...
    minimal["clip"] = {"frames": 20, "height": 64, "width": 64}  # the other clip settings take their defaults
    text = json.dumps(minimal, indent=2) + "\n"
    (folder / "manifest.json").write_text(text)
    manifest = read_manifest(folder)
    assert manifest.format_version is None and manifest.dataset == {} and manifest.clip == ClipSettings()
    assert manifest.to_json() == text
    assert set(load_bundle(folder).models) == {"convlstm", "lrcn"}


def test_a_valid_bundle_loads_with_typed_manifest_and_report(good_bundle):
    bundle = load_bundle(good_bundle)
    assert set(bundle.models) == {"convlstm", "lrcn"} and bundle.classes == CLASSES
    assert isinstance(bundle.manifest, Manifest) and isinstance(bundle.report, Report) and bundle.has_report
    assert bundle.report.models["lrcn"].misclassified[0].image == "misclassified/lrcn_v_Swing_g01_c01.jpg"
    assert bundle.settings.frames == 20 and bundle.synthetic


# --------------------------------------------------------------------------- malformed manifests
def _set(path: str | tuple[str, ...], value):
    """Set the entry at a dotted path (a tuple when a key holds a dot, like a file name)."""

    def change(data):
        *parents, last = path.split(".") if isinstance(path, str) else path
        target = data
        for key in parents:
            target = target[key]
        target[last] = value

    return change


MALFORMED = {
    "format_version one": (
        _set("format_version", "one"),
        "manifest.json: format_version must be a whole number, got 'one'",
    ),
    "format_version 0": (_set("format_version", 0), "manifest.json: format_version must be at least 1, got 0"),
    "clip.frames string": (_set("clip.frames", "20"), "manifest.json: clip.frames must be a whole number, got '20'"),
    "clip.frames float": (_set("clip.frames", 20.5), "manifest.json: clip.frames must be a whole number, got 20.5"),
    "clip.frames true": (_set("clip.frames", True), "manifest.json: clip.frames must be a whole number, got true"),
    "sampling random": (
        _set("clip.sampling", "random"),
        "manifest.json: clip.sampling must be one of tutorial, uniform, got 'random'",
    ),
    "channels 2": (_set("clip.channels", 2), "manifest.json: clip.channels must be one of 1, 3, got 2"),
    "height 4": (_set("clip.height", 4), "manifest.json: clip.height must be at least 8, got 4"),
    "clip a list": (_set("clip", [20, 64, 64]), "manifest.json: clip must be a JSON object, got a list"),
    "models a list": (_set("models", ["convlstm", "lrcn"]), "manifest.json: models must be a JSON object, got a list"),
    "models empty": (_set("models", {}), "manifest.json: models must name at least one model"),
    "model entry a string": (
        _set("models.lrcn", "lrcn.keras"),
        "manifest.json: models.lrcn must be a JSON object, got a string",
    ),
    "model params string": (
        _set("models.lrcn.params", "73k"),
        "manifest.json: models.lrcn.params must be a whole number, got '73k'",
    ),
    "files null": (_set("files", None), "manifest.json: files must be a JSON object, got null"),
    "files a list": (_set("files", ["lrcn.keras"]), "manifest.json: files must be a JSON object, got a list"),
    "hash not hex": (
        _set(("files", "lrcn.keras"), 12),
        "manifest.json: files['lrcn.keras'] must be a sha256 (64 lowercase hex digits), got 12",
    ),
    "classes a string": (_set("classes", "TaiChi"), "manifest.json: classes must be a list, got a string"),
    "class not a string": (_set("classes", ["TaiChi", 3]), "manifest.json: classes[1] must be a class name, got 3"),
    "classes twice": (_set("classes", ["TaiChi"] * 4), "manifest.json: classes must not name a class twice"),
    "no classes": (lambda d: d.pop("classes") and None, "manifest.json has no 'classes' entry"),
    "dataset a list": (_set("dataset", []), "manifest.json: dataset must be a JSON object, got a list"),
    "synthetic a string": (
        _set("dataset.synthetic", "yes"),
        "manifest.json: dataset.synthetic must be true or false, got 'yes'",
    ),
    "split seed string": (_set("split.seed", "27"), "manifest.json: split.seed must be a whole number, got '27'"),
    "manifest a list": (lambda d: [d], "manifest.json must be a JSON object, got a list"),
    "manifest a number": (lambda d: 1, "manifest.json must be a JSON object, got a number"),
    "not a bundle": (_set("format", "something-else"), "manifest.json: format must be 'har-demo-bundle'"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_manifest_is_a_bundle_error_naming_the_field(good_bundle, tmp_path, case):
    change, message = MALFORMED[case]
    folder = _copy(good_bundle, tmp_path / "b")
    _edit_manifest(folder, change)
    error = _refusal(folder)
    assert isinstance(error, ManifestError), f"{type(error).__name__}: {error}"
    assert str(error).startswith(message), str(error)


def test_manifest_that_is_not_json_or_not_text(good_bundle, tmp_path):
    folder = _copy(good_bundle, tmp_path / "b")
    (folder / "manifest.json").write_text('{"format": "har-demo-bundle", ')
    assert str(_refusal(folder)).startswith("manifest.json is not valid JSON (line 1")
    (folder / "manifest.json").write_bytes(b'{"format": "\xff"}')
    assert "manifest.json is not UTF-8 text" in str(_refusal(folder))
    (folder / "manifest.json").write_text("[" * 100_000)
    assert isinstance(_refusal(folder), ManifestError)


def test_an_oversized_manifest_is_refused_before_it_is_read(good_bundle, tmp_path, monkeypatch):
    import har_demo.bundle

    folder = _copy(good_bundle, tmp_path / "b")
    monkeypatch.setattr(har_demo.bundle, "MAX_JSON_BYTES", 1000)
    error = _refusal(folder)
    assert isinstance(error, ManifestError) and "a har-demo manifest.json is at most 1,000" in str(error)


def test_newer_format_version_says_upgrade(good_bundle, tmp_path):
    folder = _copy(good_bundle, tmp_path / "b")
    _edit_manifest(folder, _set("format_version", 2))
    error = _refusal(folder)
    assert isinstance(error, NewerFormatError) and "upgrade har-demo" in str(error)


def _replace_report(folder: Path, text: str) -> None:
    """A report.json an author changed, with its hash updated to match (so only the content is wrong)."""
    (folder / "report.json").write_text(text)
    _edit_manifest(folder, _set(("files", "report.json"), _sha256(folder / "report.json")))


INVALID_REPORTS = {
    "not JSON": ("{'models': }", "report.json is not valid JSON (line 1"),
    "a list": ("[]", "report.json must be a JSON object, got a list"),
    "models a list": ('{"models": ["lrcn"]}', "report.json: models must be a JSON object, got a list"),
    "accuracy a string": (
        '{"models": {"lrcn": {"test": {"accuracy": "92%"}}}}',
        "report.json: models.lrcn.test.accuracy must be a number, got '92%'",
    ),
    "confusion ragged": (
        '{"models": {"lrcn": {"test": {"confusion": [[1, 2], [3]]}}}}',
        "report.json: models.lrcn.test.confusion must be a square matrix",
    ),
    "per_class row a number": (
        '{"models": {"lrcn": {"test": {"per_class": {"TaiChi": 0.9}}}}}',
        "report.json: models.lrcn.test.per_class.TaiChi must be a JSON object, got a number",
    ),
    "history not numbers": (
        '{"models": {"lrcn": {"history": {"loss": [1.0, "nan"]}}}}',
        "report.json: models.lrcn.history.loss[1] must be a number, got 'nan'",
    ),
    "misclassified without true": (
        '{"models": {"lrcn": {"misclassified": [{"clip": "a.avi", "predicted": "Swing"}]}}}',
        "report.json has no 'models.lrcn.misclassified[0].true' entry",
    ),
    "confusion of another class count": (
        '{"models": {"lrcn": {"test": {"confusion": [[1, 0], [0, 1]]}}}}',
        "report.json: models.lrcn.test.confusion is 2x2, but the bundle has 4 classes",
    ),
    "split a string": ('{"split": "group", "models": {}}', "report.json: split must be a JSON object, got a string"),
}


@pytest.mark.parametrize("case", list(INVALID_REPORTS))
def test_invalid_report_is_a_bundle_error_naming_the_field(good_bundle, tmp_path, case):
    text, message = INVALID_REPORTS[case]
    folder = _copy(good_bundle, tmp_path / "b")
    _replace_report(folder, text)
    error = _refusal(folder)
    assert isinstance(error, ManifestError) and str(error).startswith(message), str(error)


# --------------------------------------------------------------------------- hash gaps
def test_files_entry_outside_the_bundle_is_refused(good_bundle, tmp_path):
    outside = Path("/etc/passwd")
    for entry in ("../../../../etc/passwd", "/etc/passwd", "misclassified/../../x", "C:\\Windows\\win.ini"):
        folder = _copy(good_bundle, tmp_path / f"b{len(list(tmp_path.iterdir()))}")
        _edit_manifest(folder, _set(("files", entry), _sha256(outside)))
        error = _refusal(folder)
        assert isinstance(error, ManifestError) and f"files[{entry!r}]" in str(error), str(error)
        assert "inside the bundle" in str(error) or "relative path" in str(error)


def test_model_file_outside_the_bundle_is_refused_even_when_hashed(good_bundle, tmp_path):
    folder = _copy(good_bundle, tmp_path / "b")
    shutil.copy(good_bundle / "lrcn.keras", tmp_path / "outside.keras")  # a real, loadable model
    _edit_manifest(folder, _set("models.lrcn.file", "../outside.keras"))
    error = _refusal(folder)
    assert isinstance(error, ManifestError) and str(error).startswith("manifest.json: models.lrcn.file must be a path")

    hashed = _copy(good_bundle, tmp_path / "c")  # listed in files with its right hash: still outside
    _edit_manifest(hashed, _set("models.lrcn.file", "../outside.keras"))
    _edit_manifest(hashed, lambda d: d["files"].update({"../outside.keras": _sha256(tmp_path / "outside.keras")}))
    assert isinstance(_refusal(hashed), ManifestError)


def test_model_file_must_be_listed_and_hashed(good_bundle, tmp_path):
    folder = _copy(good_bundle, tmp_path / "b")
    shutil.copy(folder / "lrcn.keras", folder / "unlisted.keras")
    _edit_manifest(folder, _set("models.lrcn.file", "unlisted.keras"))
    error = _refusal(folder)
    assert isinstance(error, ManifestError)
    assert str(error).startswith("manifest.json: models.lrcn.file 'unlisted.keras' is not in files")


def test_symlinks_out_of_the_bundle_are_refused(good_bundle, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not part of any bundle")
    folder = _copy(good_bundle, tmp_path / "b")
    (folder / "misclassified" / "link.jpg").symlink_to(secret)
    _edit_manifest(folder, lambda d: d["files"].update({"misclassified/link.jpg": _sha256(secret)}))
    error = _refusal(folder)
    assert isinstance(error, BundleFileError) and "outside the bundle folder" in str(error)

    linked_dir = _copy(good_bundle, tmp_path / "c")  # a folder inside the bundle that is a link out
    shutil.rmtree(linked_dir / "misclassified")
    (tmp_path / "strips").mkdir()
    for m in ("convlstm", "lrcn"):
        shutil.copy(good_bundle / "misclassified" / f"{m}_v_Swing_g01_c01.jpg", tmp_path / "strips")
    (linked_dir / "misclassified").symlink_to(tmp_path / "strips")
    assert isinstance(_refusal(linked_dir), BundleFileError)

    inside = _copy(good_bundle, tmp_path / "d")  # a link that stays inside is fine
    (inside / "copy.keras").symlink_to(inside / "lrcn.keras")
    _edit_manifest(inside, lambda d: d["files"].update({"copy.keras": d["files"]["lrcn.keras"]}))
    _edit_manifest(inside, _set("models.lrcn.file", "copy.keras"))
    assert set(load_bundle(inside).models) == {"convlstm", "lrcn"}


def test_report_images_must_be_inside_and_hashed(good_bundle, tmp_path):
    report = _report(["convlstm", "lrcn"])
    for image, words in (("../../etc/passwd", "inside the bundle"), ("misclassified/other.jpg", "not in the manifest")):
        folder = _copy(good_bundle, tmp_path / f"b{len(list(tmp_path.iterdir()))}")
        report["models"]["lrcn"]["misclassified"][0]["image"] = image
        _replace_report(folder, json.dumps(report))
        error = _refusal(folder)
        assert isinstance(error, ManifestError) and "models.lrcn.misclassified[0].image" in str(error)
        assert words in str(error)


def test_tampered_file_is_still_refused(good_bundle, tmp_path):
    folder = _copy(good_bundle, tmp_path / "b")
    (folder / "lrcn.keras").write_bytes(b"changed")
    error = _refusal(folder)
    assert isinstance(error, BundleFileError) and "lrcn.keras does not match the hash" in str(error)


def test_report_not_in_files_is_ignored_not_trusted(good_bundle, tmp_path):
    folder = _copy(good_bundle, tmp_path / "b")
    _edit_manifest(folder, lambda d: d["files"].pop("report.json") and None)
    bundle = load_bundle(folder)
    assert not bundle.has_report and bundle.report.models == {}


# --------------------------------------------------------------------------- safe mode, by structure
def test_lambda_layer_is_refused_from_the_model_config(good_bundle, tmp_path):
    import keras

    inputs = keras.Input((20, 64, 64, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    x = keras.layers.GlobalAveragePooling3D()(x)
    model = keras.Model(inputs, keras.layers.Dense(4, activation="softmax")(x))
    folder = _copy(good_bundle, tmp_path / "b")
    model.save(folder / "lrcn.keras")
    _edit_manifest(folder, _set(("files", "lrcn.keras"), _sha256(folder / "lrcn.keras")))
    error = _refusal(folder)
    assert isinstance(error, UnsafeModelError) and "Lambda" in str(error)


def test_a_damaged_model_file_is_a_bundle_error(good_bundle, tmp_path):
    folder = _copy(good_bundle, tmp_path / "b")
    (folder / "lrcn.keras").write_bytes(b"PK\x03\x04 not really a zip")
    _edit_manifest(folder, _set(("files", "lrcn.keras"), _sha256(folder / "lrcn.keras")))
    error = _refusal(folder)
    assert type(error) is BundleError and "not a loadable Keras model" in str(error)


# --------------------------------------------------------------------------- layers
def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_bundle_layers_point_down():
    package = REPO / "har_demo"
    for module, forbidden in (
        ("manifest.py", ("har_demo.bundle", "har_demo.hub", "har_demo.loader")),
        ("bundle.py", ("har_demo.hub", "har_demo.loader")),
        ("report_text.py", ("har_demo.bundle", "har_demo.hub", "har_demo.loader")),
        ("hub.py", ("har_demo.loader",)),
    ):
        found = {
            name for name in _imports(package / module) for f in forbidden if name == f or name.startswith(f + ".")
        }
        assert not found, f"har_demo/{module} imports {found}: the layers must point down"
    offenders = [
        str(p.relative_to(REPO))
        for p in [*REPO.glob("har_demo/**/*.py"), *REPO.glob("benchmarks/*.py"), *REPO.glob("tests/*.py")]
        if {"har_demo.bundle.load_bundle", "har_demo.bundle.resolve_bundle_path"} & _imports(p)
    ]
    assert offenders == [], f"load_bundle / resolve_bundle_path live in har_demo.loader: {offenders}"


# --------------------------------------------------------------------------- the CLI says one sentence
@pytest.mark.slow
def test_predict_cli_prints_the_sentence_for_a_malformed_bundle(good_bundle, tmp_path):
    folder = _copy(good_bundle, tmp_path / "b")
    _edit_manifest(folder, _set("clip.frames", "20"))
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    clip = REPO / "examples" / "synthetic_TaiChi.webm"
    result = subprocess.run(
        [sys.executable, "-m", "har_demo", "predict", str(clip), "--bundle", str(folder)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "error: manifest.json: clip.frames must be a whole number, got '20'" in result.stderr


# --------------------------------------------------------------------------- one module writes the results tables
def test_report_text_tables_of_the_shipped_report():
    from har_demo import report_text

    manifest = Manifest.from_json((REPO / "weights" / "manifest.json").read_text())
    report = Report.from_json((REPO / "weights" / "report.json").read_text())
    table = report_text.table1_markdown(report, manifest)
    rows = {}  # each model's row, built from report.json's own figures: retraining weights/ edits no test
    for key, name, params in (("convlstm", "ConvLSTM", "44,524"), ("lrcn", "LRCN", "73,060")):
        m = report.models[key]
        rows[key] = (m.test.accuracy, m.test.loss, m.test.macro_f1, m.test.clips)
        figures = f"{m.test.accuracy:.1%} | {m.test.loss:.4f} | {m.test.macro_f1:.3f} | {m.test.clips}"
        assert f"| {name} | {params} | {figures} | {m.epochs_trained} ({m.best_epoch}) |" in table
    assert "group split" in table and "seed 27" in table and "synthetic clips" in table
    per_class = report_text.per_class_markdown(report, manifest.classes)
    taichi = {k: report.models[k].test.per_class["TaiChi"] for k in ("convlstm", "lrcn")}
    cells = " | ".join(f"{c.precision:.2f} / {c.recall:.2f} / {c.f1:.2f}" for c in taichi.values())
    assert f"| TaiChi | {cells} | {taichi['lrcn'].support} |" in per_class
    lines = [f"{k:<8}{a:>12.2%}{loss:>9.4f}{f1:>10.4f}{n:>7}" for k, (a, loss, f1, n) in rows.items()]
    assert report_text.table1_text(report) == (  # what `evaluate` and `train` printed before, to the character
        "model       accuracy     loss  macro F1  clips   split: group\n" + "\n".join(lines)
    )
    assert report_text.table1_markdown(Report()) == report_text.NO_REPORT
    assert report_text.per_class_markdown(Report(), manifest.classes) == ""


def test_report_text_says_what_is_missing_and_names_a_random_split():
    from har_demo import report_text

    report = Report.from_dict({"split": {"kind": "random"}, "models": {"lrcn": {"test": {"accuracy": 0.5}}}})
    table = report_text.table1_markdown(report)
    assert "| LRCN | – | 50.0% | – | – | – | – |" in table and report_text.RANDOM_SPLIT_NOTE in table
    assert "lrcn          50.00%        –         –      –" in report_text.table1_text(report)
