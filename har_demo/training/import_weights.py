"""`har-demo import`: tutorial-style model files -> a bundle the app can serve.

Dozens of people published the tutorial's whole-model .h5 files. Keras 3 refuses the Keras 2 era
ones (`time_major` on LSTM/ConvLSTM2D, `Could not locate class 'Conv2D'`); here they are read
through a config with those quirks removed, rebuilt from plain Keras 3 layers, and given the
tutorial's frame settings (BGR, bilinear resize, /255, `i * max(count // 20, 1)` sampling).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from har_demo.bundle import (
    BundleError,
    check_model_shapes,
    file_sha256,
    new_manifest,
    save_models,
    write_manifest,
)
from har_demo.clip import ClipSettings
from har_demo.names import REPORT_CLASSES

TUTORIAL_SETTINGS = ClipSettings()  # the defaults are the tutorial's
_KERAS2_ONLY_KEYS = {"time_major"}


def _strip_keys(config, keys: set[str]):
    """Remove Keras 2-only arguments anywhere in a model config."""
    if isinstance(config, dict):
        return {k: _strip_keys(v, keys) for k, v in config.items() if k not in keys}
    if isinstance(config, list):
        return [_strip_keys(v, keys) for v in config]
    return config


def _plain_layer_classes() -> dict:
    """Every built-in layer by class name: what a Keras 2 file's bare names refer to."""
    import keras

    classes = {
        name: obj
        for name, obj in vars(keras.layers).items()
        if isinstance(obj, type) and issubclass(obj, keras.layers.Layer)
    }
    return {**classes, "Sequential": keras.Sequential, "Functional": keras.Model, "Model": keras.Model}


def _load_h5(path: Path):
    import h5py
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except (TypeError, ValueError) as first_error:
        # Keras 2 era file: rebuild from its cleaned config, then copy its weights across.
        with h5py.File(path, "r") as handle:
            raw = handle.attrs.get("model_config")
        if raw is None:
            raise BundleError(f"{path.name} holds weights only, not a whole model: {first_error}") from None
        config = _strip_keys(json.loads(raw if isinstance(raw, str) else raw.decode()), _KERAS2_ONLY_KEYS)
        try:
            model = keras.models.model_from_json(json.dumps(config), custom_objects=_plain_layer_classes())
            model.load_weights(path)
        except Exception as exc:
            reason = str(exc).split(". Full object config")[0][:300]
            raise BundleError(f"{path.name} could not be read as a Keras 2 or Keras 3 model: {reason}") from exc
        return model


def load_tutorial_model(path: Path):
    """Load one tutorial-style .h5 or .keras file as a plain Keras 3 model."""
    path = Path(path)
    if not path.is_file():
        raise BundleError(f"No such model file: {path}")
    if path.suffix == ".keras":
        from har_demo.bundle import load_keras_model

        return load_keras_model(path, path.name)
    if path.suffix not in (".h5", ".hdf5"):
        raise BundleError(f"{path.name}: expected a .h5 or .keras model file.")
    try:
        return _load_h5(path)
    except OSError as exc:
        raise BundleError(f"{path.name} is not an HDF5 model file: {exc}") from exc


def detect_kind(model) -> str:
    """convlstm or lrcn, from the layers the model is made of."""
    names = set()
    for layer in model._flatten_layers(include_self=False, recursive=True):
        names.add(type(layer).__name__)
    if "ConvLSTM2D" in names:
        return "convlstm"
    if "LSTM" in names and "Conv2D" in names:
        return "lrcn"
    raise BundleError(
        f"{model.name}: neither a ConvLSTM (ConvLSTM2D layers) nor an LRCN (Conv2D + LSTM); "
        "name its kind explicitly with --convlstm/--lrcn."
    )


def import_bundle(
    out: Path,
    files: list[Path] | dict[str, Path],
    classes: list[str],
    settings: ClipSettings = TUTORIAL_SETTINGS,
    name: str = "tutorial-import",
) -> Path:
    """Write a bundle at `out` from model files ({kind: file}, or a list whose kinds are detected).

    Each model's input and output shapes are checked against the clip settings and class list.
    """
    named = files.items() if isinstance(files, dict) else [(None, Path(f)) for f in files]
    models, sources = {}, {}
    for kind, path in named:
        model = load_tutorial_model(path)
        kind = kind or detect_kind(model)
        if kind in models:
            raise BundleError(
                f"{sources[kind]['file']} and {Path(path).name} are both {kind} models; give one of each."
            )
        check_model_shapes(model, classes, settings, f"{Path(path).name} ({kind})")
        models[kind] = model
        sources[kind] = {"file": Path(path).name, "sha256": file_sha256(Path(path))}
    if not models:
        raise BundleError("Give one or two model files (positional, or --convlstm/--lrcn).")
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    entries = save_models(out, models)
    manifest = new_manifest(
        name=name,
        classes=classes,
        settings=settings,
        models=entries,
        source="imported",
        dataset={"name": "unknown (imported weights)", "synthetic": False},
        extra={"imported_from": sources},
    )
    write_manifest(out, manifest)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", type=Path, help="one or two .h5/.keras files (kind detected)")
    parser.add_argument("--convlstm", type=Path, help="the ConvLSTM file (instead of detection)")
    parser.add_argument("--lrcn", type=Path, help="the LRCN file (instead of detection)")
    parser.add_argument("--classes", default=",".join(REPORT_CLASSES), help="class names in output order")
    parser.add_argument("--out", type=Path, required=True, help="bundle folder to write")
    parser.add_argument("--name", default="tutorial-import", help="bundle name in the manifest")
    parser.add_argument("--sampling", default="tutorial", choices=("tutorial", "uniform"))
    parser.add_argument("--color-order", default="bgr", choices=("bgr", "rgb"))


def run(args: argparse.Namespace) -> int:
    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    settings = TUTORIAL_SETTINGS.with_(sampling=args.sampling, color_order=args.color_order)
    explicit = {kind: getattr(args, kind) for kind in ("convlstm", "lrcn") if getattr(args, kind)}
    if explicit and args.files:
        print("error: give the files either positionally or with --convlstm/--lrcn, not both.", file=sys.stderr)
        return 2
    try:
        out = import_bundle(args.out, explicit or list(args.files), classes, settings, name=args.name)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    kinds = ", ".join(json.loads((out / "manifest.json").read_text())["models"])
    print(f"Wrote bundle {out} with {kinds} for classes {', '.join(classes)}")
    return 0
