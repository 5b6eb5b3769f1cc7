"""The model bundle: the one artefact training writes and the app, CLI and Hub read.

A bundle is a plain folder a person can open:

    manifest.json        classes, clip settings, dataset, split, training config, versions, hashes
    convlstm.keras       Keras 3 native format (one or both models)
    lrcn.keras
    report.json          test metrics, confusion matrices, training curves, misclassified clips
    misclassified/*.jpg  frame strips of the misclassified test clips

Every file except manifest.json (and a Hub model card README.md) is listed with its sha256, so a
bundle that changed after it was written is refused rather than silently served; every path stays
inside the folder. This module knows local folders only: `har_demo.loader.load_bundle` also takes
a Hub reference (through `har_demo.hub`, which builds on this module, never the reverse).
The manifest and report themselves are typed in `har_demo.manifest`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import platform
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from har_demo import __version__
from har_demo.clip import ClipSettings
from har_demo.manifest import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_NAME,
    MAX_JSON_BYTES,
    REPORT_NAME,
    BundleError,
    Manifest,
    ManifestError,
    ModelEntry,
    Report,
    bundle_path_problem,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "REPORT_NAME",
    "Bundle",
    "BundleError",
    "BundleFileError",
    "Manifest",
    "ManifestError",
    "Report",
    "UnsafeModelError",
]

log = logging.getLogger(__name__)
UNHASHED = {MANIFEST_NAME, "README.md", ".gitattributes"}


class BundleFileError(BundleError):
    """A file the manifest lists that is missing, outside the bundle, or differs from its hash."""


class UnsafeModelError(BundleError):
    """A model file that would run code it carries (a Lambda layer): refused, never loaded."""


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


def read_manifest(folder: Path) -> Manifest:
    """The folder's manifest.json, validated; BundleError when there is none or it breaks the schema."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise BundleError(f"{folder} is not a model bundle: it has no {MANIFEST_NAME}.")
    return Manifest.from_json(_read_small(path))


def _read_small(path: Path) -> bytes:
    """A JSON file's bytes, refused before reading when it is larger than any har-demo writes."""
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise ManifestError(path.name, "", f"is {size:,} bytes; a har-demo {path.name} is at most {MAX_JSON_BYTES:,}")
    return path.read_bytes()


def bundle_file(folder: Path, relative: str, links_within: Path | None = None) -> Path:
    """The path of a file the manifest lists, refused unless it stays inside the bundle folder.

    Symlinks are followed and must land inside the folder too, or inside `links_within` (the Hub
    cache keeps a snapshot's files as links into the repo's blob store).
    """
    problem = bundle_path_problem(relative)
    if problem:
        raise BundleFileError(f"Bundle file {relative!r} {problem}; the bundle is refused.")
    folder = Path(folder)
    path = folder / relative
    real = path.resolve()
    roots = [folder.resolve()] + ([Path(links_within).resolve()] if links_within else [])
    if not any(real.is_relative_to(root) for root in roots):
        raise BundleFileError(
            f"Bundle file {relative} is a link to {real}, outside the bundle folder; the bundle is refused."
        )
    return path


def verify_files(folder: Path, manifest: Manifest, links_within: Path | None = None) -> None:
    """Raise BundleFileError naming the first file that is outside the bundle, missing, or differs from its hash."""
    folder = Path(folder)
    for relative, expected in sorted(manifest.files.items()):
        path = bundle_file(folder, relative, links_within)
        if not path.is_file():
            raise BundleFileError(f"Bundle file {relative} is missing from {folder}.")
        if file_sha256(path) != expected:
            raise BundleFileError(
                f"Bundle file {relative} does not match the hash in the manifest: "
                "it was changed or damaged after the bundle was written. Download or copy it again."
            )


def read_report(folder: Path, manifest: Manifest, links_within: Path | None = None) -> Report:
    """The folder's report.json (validated) when the manifest lists it; an empty Report otherwise.

    Every frame strip it names must be a file the manifest lists (and so hashed).
    """
    folder = Path(folder)
    if REPORT_NAME not in manifest.files:
        if (folder / REPORT_NAME).exists():
            log.warning("%s: %s is not in the manifest's files (no hash to check); ignoring it.", folder, REPORT_NAME)
        return Report()
    report = Report.from_json(_read_small(bundle_file(folder, REPORT_NAME, links_within)))
    classes = len(manifest.classes)
    for model, result in report.models.items():
        confusion = result.test.confusion if result.test else []
        if confusion and len(confusion) != classes:
            raise ManifestError(
                REPORT_NAME,
                f"models.{model}.test.confusion",
                f"is {len(confusion)}x{len(confusion)}, but the bundle has {classes} classes",
            )
        for i, entry in enumerate(result.misclassified):
            if entry.image and entry.image not in manifest.files:
                raise ManifestError(
                    REPORT_NAME,
                    f"models.{model}.misclassified[{i}].image",
                    f"{entry.image!r} is not in the manifest's files, so it has no hash to check",
                )
    return report


def write_report(folder: Path, report: Report | dict) -> Report:
    """Write report.json (validated first: a bundle never carries a report it could not read back)."""
    report = report if isinstance(report, Report) else Report.from_dict(report)
    (Path(folder) / REPORT_NAME).write_text(report.to_json())
    return report


def hash_files(folder: Path) -> dict[str, str]:
    folder = Path(folder)
    return {
        path.relative_to(folder).as_posix(): file_sha256(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name not in UNHASHED and not path.name.startswith(".")
    }


def write_manifest(folder: Path, manifest: Manifest) -> Manifest:
    """Hash every file now in the folder and write manifest.json last (checked against its schema first)."""
    manifest = manifest.model_copy(update={"files": hash_files(folder)})
    text = manifest.to_json()
    Manifest.from_json(text)  # what is written must read back
    (Path(folder) / MANIFEST_NAME).write_text(text)
    return manifest


def new_manifest(
    *,
    name: str,
    classes: list[str],
    settings: ClipSettings,
    models: dict[str, dict | ModelEntry],
    source: str,
    dataset: dict | None = None,
    split: dict | None = None,
    training: dict | None = None,
    extra: dict | None = None,
) -> Manifest:
    """A manifest for a bundle being written, its keys in the order written; write_manifest fills in `files`."""
    return Manifest(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        name=name,
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        source=source,
        classes=list(classes),
        clip=settings,
        models=dict(models),
        dataset=dataset or {},
        split=split or {},
        training=training or {},
        versions=library_versions(),
        **(extra or {}),  # imported_from, and keys a caller adds
        files={},
    )


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


def _code_layers(path: Path) -> list[str]:
    """Names of the layers in a .keras file that carry Python code (Lambda), read from its config.

    Read from the archive's config.json before Keras sees the file, so a refusal depends on what
    the model is made of, not on the wording of a Keras error.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, RecursionError):
        return []  # not a readable .keras archive: Keras says what is wrong with it below
    found, stack = [], [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("class_name") in ("Lambda", "__lambda__"):
                inner = node.get("config")
                found.append(str(inner.get("name", "lambda")) if isinstance(inner, dict) else "lambda")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def load_keras_model(path: Path, label: str):
    """Load a .keras file with safe mode on: a bundle must never run code it carries."""
    import keras

    if _code_layers(path):
        raise UnsafeModelError(
            f"{label} contains a Lambda layer (arbitrary Python code); it is refused in "
            "safe mode. Rebuild the model without Lambda layers."
        )
    import har_demo.pretrained  # noqa: F401  (registers the pretrained model's layers for safe-mode loading)

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # zip/h5/config errors of every kind: a wrong or damaged file
        raise BundleError(f"{label} is not a loadable Keras model: {exc}") from exc


@dataclass
class Bundle:
    """A loaded bundle: the models, and everything known about them."""

    path: Path
    manifest: Manifest
    models: dict[str, Any]
    report: Report = field(default_factory=Report)  # empty (no models) when the bundle has no report
    origin: str = ""  # where it came from, in words ("weights/", "owner/name@abc123")

    def __post_init__(self) -> None:
        if isinstance(self.manifest, dict):
            self.manifest = Manifest.from_dict(self.manifest)
        if self.report is None:
            self.report = Report()
        elif isinstance(self.report, dict):
            self.report = Report.from_dict(self.report)

    @property
    def classes(self) -> list[str]:
        return list(self.manifest.classes)

    @property
    def settings(self) -> ClipSettings:
        return self.manifest.clip

    @property
    def synthetic(self) -> bool:
        return self.manifest.synthetic

    @property
    def model_names(self) -> list[str]:
        return list(self.models)

    @property
    def has_report(self) -> bool:
        return bool(self.report.models)


def load_bundle_folder(
    path: Path, *, models: list[str] | None = None, origin: str = "", links_within: Path | None = None
) -> Bundle:
    """Load a local bundle folder, verifying every file before use (see har_demo.loader for Hub refs)."""
    path = Path(path)
    manifest = read_manifest(path)
    verify_files(path, manifest, links_within)
    wanted = models or list(manifest.models)
    loaded = {}
    for name in wanted:
        if name not in manifest.models:
            raise BundleError(f"The bundle has no {name} model (it has {', '.join(manifest.models)}).")
        model_path = bundle_file(path, manifest.models[name].file, links_within)
        model = load_keras_model(model_path, f"The {name} model")
        check_model_shapes(model, manifest.classes, manifest.clip, f"The {name} model")
        loaded[name] = model
    report = read_report(path, manifest, links_within)
    return Bundle(path=path, manifest=manifest, models=loaded, report=report, origin=origin or str(path))
