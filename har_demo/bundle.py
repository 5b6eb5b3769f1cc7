"""The model bundle: the one artefact training writes and the app, CLI and Hub read.

A bundle is a plain folder a person can open:

    manifest.json        classes, clip settings, dataset, split, training config, versions, hashes
    convlstm.keras       Keras 3 native format (one or both models)
    lrcn.keras
    report.json          test metrics, confusion matrices, training curves, misclassified clips
    misclassified/*.jpg  frame strips of the misclassified test clips

Every file except manifest.json (and a Hub model card README.md) is listed with its sha256, so a
bundle that changed after it was written is refused rather than silently served.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from har_demo import __version__
from har_demo.clip import ClipSettings
from har_demo.shipped import SHIPPED_BUNDLE, SHIPPED_NAME

MANIFEST_NAME = "manifest.json"
REPORT_NAME = "report.json"
FORMAT = "har-demo-bundle"
FORMAT_VERSION = 1
UNHASHED = {MANIFEST_NAME, "README.md", ".gitattributes"}


class BundleError(Exception):
    """A bundle that cannot be used; the message says what is wrong and what to do."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions that shaped a bundle; recorded so a surprising result can be traced."""
    import cv2
    import keras
    import numpy

    versions = {
        "har_demo": __version__,
        "python": platform.python_version(),
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "numpy": numpy.__version__,
        "opencv": cv2.__version__,
    }
    try:
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    except ImportError:
        pass
    return versions


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise BundleError(f"{folder} is not a model bundle: it has no {MANIFEST_NAME}.")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path} is not valid JSON: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{path} is not a har-demo bundle manifest.")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise BundleError(
            f"{folder} was written by a newer har-demo (bundle format "
            f"{manifest['format_version']}); upgrade har-demo to read it."
        )
    for key in ("classes", "clip", "models", "files"):
        if key not in manifest:
            raise BundleError(f"{path} has no {key!r} entry.")
    return manifest


def verify_files(folder: Path, manifest: dict) -> None:
    """Raise BundleError naming the first file that is missing or differs from its hash."""
    folder = Path(folder)
    for relative, expected in sorted(manifest["files"].items()):
        path = folder / relative
        if not path.is_file():
            raise BundleError(f"Bundle file {relative} is missing from {folder}.")
        if file_sha256(path) != expected:
            raise BundleError(
                f"Bundle file {relative} does not match the hash in the manifest: "
                "it was changed or damaged after the bundle was written. Download or copy it again."
            )


def hash_files(folder: Path) -> dict[str, str]:
    folder = Path(folder)
    return {
        path.relative_to(folder).as_posix(): file_sha256(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name not in UNHASHED and not path.name.startswith(".")
    }


def write_manifest(folder: Path, manifest: dict) -> dict:
    """Hash every file now in the folder and write manifest.json last."""
    manifest = dict(manifest)
    manifest["files"] = hash_files(folder)
    (Path(folder) / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def new_manifest(
    *,
    name: str,
    classes: list[str],
    settings: ClipSettings,
    models: dict[str, dict],
    source: str,
    dataset: dict | None = None,
    split: dict | None = None,
    training: dict | None = None,
    extra: dict | None = None,
) -> dict:
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source": source,
        "classes": list(classes),
        "clip": settings.to_dict(),
        "models": models,
        "dataset": dataset or {},
        "split": split or {},
        "training": training or {},
        "versions": library_versions(),
    }
    manifest.update(extra or {})
    return manifest


def _inference_copy(model):
    """The model without its optimizer state, which would triple the file for nothing.

    Rebuilt from its config: keras.models.clone_model would carry the compiled optimizer along.
    """
    if getattr(model, "optimizer", None) is None:
        return model
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def save_models(folder: Path, models: dict) -> dict[str, dict]:
    """Save each keras model as <name>.keras; return the manifest's `models` entry."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name, model in models.items():
        filename = f"{name}.keras"
        _inference_copy(model).save(folder / filename)
        entries[name] = {"file": filename, "params": int(model.count_params())}
    return entries


def check_model_shapes(model, classes: list[str], settings: ClipSettings, label: str) -> None:
    """Refuse a model whose input or output does not fit the clip settings and class list."""
    expected_in = (settings.frames, settings.height, settings.width, settings.channels)
    actual_in = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
    if actual_in is not None and tuple(d for d in actual_in) != expected_in:
        raise BundleError(
            f"{label} takes clips of shape {actual_in}, but the clip settings make "
            f"{expected_in} (frames, height, width, channels)."
        )
    outputs = model.output_shape[-1]
    if outputs != len(classes):
        raise BundleError(
            f"{label} predicts {outputs} classes, but {len(classes)} class names were given ({', '.join(classes)})."
        )


def load_keras_model(path: Path, label: str):
    """Load a .keras file with safe mode on: a bundle must never run code it carries."""
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except ValueError as exc:
        if "Lambda" in str(exc) or "safe_mode" in str(exc):
            raise BundleError(
                f"{label} contains a Lambda layer (arbitrary Python code); it is refused in "
                "safe mode. Rebuild the model without Lambda layers."
            ) from exc
        raise BundleError(f"{label} could not be loaded: {exc}") from exc
    except Exception as exc:  # zip/h5 errors of every kind: a wrong or damaged file
        raise BundleError(f"{label} is not a loadable Keras model: {exc}") from exc


@dataclass
class Bundle:
    """A loaded bundle: the models, and everything known about them."""

    path: Path
    manifest: dict
    models: dict[str, Any]
    report: dict = field(default_factory=dict)
    origin: str = ""  # where it came from, in words ("weights/", "owner/name@abc123")

    @property
    def classes(self) -> list[str]:
        return list(self.manifest["classes"])

    @property
    def settings(self) -> ClipSettings:
        return ClipSettings.from_dict(self.manifest["clip"])

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("dataset", {}).get("synthetic", False))

    @property
    def model_names(self) -> list[str]:
        return list(self.models)


def resolve_bundle_path(ref: str | Path) -> tuple[Path, str]:
    """A local folder, or a Hub reference `OWNER/NAME[@REVISION]` fetched into the HF cache.

    Returns the folder and where it came from in words (the Hub commit pinned, when from the Hub).
    """
    path = Path(ref).expanduser()
    if path.is_dir():
        return path, str(ref)
    text = str(ref)
    if text == SHIPPED_NAME:  # `--bundle weights` from any folder: the bundle this package ships
        return SHIPPED_BUNDLE, "the shipped weights"
    if path.exists():
        raise BundleError(f"{text} is a file; a bundle is a folder with {MANIFEST_NAME}.")
    from har_demo import hub

    if hub.is_hub_ref(text):
        folder = hub.resolve_bundle(text)
        commit = hub.snapshot_commit(folder)
        repo_id, _ = hub.parse_bundle_ref(text)
        return folder, f"{repo_id}@{commit[:7]}" if commit else text
    raise BundleError(f"No bundle folder at {text} (and it is not an OWNER/NAME Hub repo id).")


def load_bundle(ref: str | Path, *, models: list[str] | None = None) -> Bundle:
    """Load a bundle from a folder or Hub reference, verifying every file before use."""
    path, origin = resolve_bundle_path(ref)
    manifest = read_manifest(path)
    verify_files(path, manifest)
    classes = manifest["classes"]
    settings = ClipSettings.from_dict(manifest["clip"])
    wanted = models or list(manifest["models"])
    loaded = {}
    for name in wanted:
        if name not in manifest["models"]:
            raise BundleError(f"The bundle has no {name} model (it has {', '.join(manifest['models'])}).")
        model = load_keras_model(path / manifest["models"][name]["file"], f"The {name} model")
        check_model_shapes(model, classes, settings, f"The {name} model")
        loaded[name] = model
    report_path = path / REPORT_NAME
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    return Bundle(path=path, manifest=manifest, models=loaded, report=report, origin=origin)
