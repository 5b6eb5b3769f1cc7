"""`har-demo import`: tutorial-style model files -> a bundle the app can serve.

Dozens of people published the tutorial's whole-model .h5 files. Keras 3 refuses the Keras 2 era
ones (`time_major` on LSTM/ConvLSTM2D, `Could not locate class 'Conv2D'`); here they are read
through a config with those quirks removed, rebuilt from plain Keras 3 layers, and given the
tutorial's frame settings (BGR, bilinear resize, /255, `i * max(count // N, 1)` sampling) at the
clip shape the model itself takes (frames, height, width; grayscale for a 1-channel model). A
model ending in one sigmoid unit is a two-class model: it is served as [1 - p, p].
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from har_demo.bundle import (
    BundleError,
    check_model_shapes,
    file_sha256,
    new_manifest,
    read_manifest,
    save_models,
    write_manifest,
)
from har_demo.clip import ClipSettings
from har_demo.names import REPORT_CLASSES
from har_demo.training.output import OutputRefused, check_output, is_scratch, new_scratch, publish, remove_scratch

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


def is_sigmoid_unit(model) -> bool:
    """A model ending in one sigmoid unit: a two-class model that outputs only p(positive)."""
    if model.output_shape[-1] != 1:
        return False
    activation = getattr(model.layers[-1], "activation", None)
    return getattr(activation, "__name__", "") == "sigmoid"


def as_two_class(model):
    """[p] -> [1 - p, p] with one plain Dense(2) (kernel [[-1, 1]], bias [1, 0], linear).

    A standard layer, so the bundle still loads in safe mode on every backend, and every tab that
    expects one probability per class works unchanged.
    """
    import keras
    import numpy as np

    head = keras.layers.Dense(2, activation="linear", name="two_class_probabilities")
    if isinstance(model, keras.Sequential):
        two = keras.Sequential([keras.Input(model.input_shape[1:]), *model.layers, head], name=model.name)
    else:
        two = keras.Model(model.inputs, head(model.outputs[0]), name=model.name)
    head.set_weights([np.array([[-1.0, 1.0]], dtype="float32"), np.array([1.0, 0.0], dtype="float32")])
    return two


def binary_class_names(classes: list[str] | None, label: str) -> list[str]:
    """Two names for a one-sigmoid-unit model: as given, or "not X", "X" from one name X."""
    if classes and len(classes) == 2:
        return list(classes)
    if classes and len(classes) == 1:
        return [f"not {classes[0]}", classes[0]]
    raise BundleError(
        f"{label} is a binary model (one sigmoid unit, the probability of one class): give its two class "
        "names with --classes NEGATIVE,POSITIVE (or one name X, for 'not X' and X)."
    )


def settings_from_model(
    model, label: str, base: ClipSettings = TUTORIAL_SETTINGS, frames: int | None = None, size: int | None = None
) -> ClipSettings:
    """The clip shape a model takes (frames, height, width, 1 or 3 channels); `frames`/`size` override."""
    shape = tuple(model.input_shape)
    if len(shape) != 5:
        raise BundleError(f"{label} takes inputs of shape {shape[1:]}, not clips (frames, height, width, channels).")
    t, h, w, c = shape[1:]
    t, h, w = frames or t, size or h, size or w
    if None in (t, h, w):
        raise BundleError(f"{label} accepts clips of any frame count or size; say which with --frames and --size.")
    if c not in (1, 3):
        raise BundleError(f"{label} takes frames with {c} channels; only 1 (grayscale) and 3 (colour) are supported.")
    changes = {"frames": int(t), "height": int(h), "width": int(w)}
    return base.with_(**changes, channels=int(c))


def import_bundle(
    out: Path,
    files: list[Path] | dict[str, Path],
    classes: list[str] | None,
    settings: ClipSettings | None = None,
    name: str = "tutorial-import",
    *,
    overwrite: bool = False,
    base: ClipSettings = TUTORIAL_SETTINGS,
    frames: int | None = None,
    size: int | None = None,
) -> Path:
    """Write a bundle at `out` from model files ({kind: file}, or a list whose kinds are detected).

    The clip settings are `settings` if given, else `base` with the shape the first model takes
    (`frames`/`size` override it). A one-sigmoid-unit model becomes a two-class model. Each model's
    input and output shapes are checked against the clip settings and class list. `out` must be
    new, empty, or (with `overwrite`) a bundle; it is replaced only once the new bundle is complete.
    """
    check_output(out, overwrite)
    named = files.items() if isinstance(files, dict) else [(None, Path(f)) for f in files]
    models, sources, shapes = {}, {}, {}
    for kind, path in named:
        label = Path(path).name
        model = load_tutorial_model(path)
        kind = kind or detect_kind(model)
        if kind in models:
            raise BundleError(f"{sources[kind]['file']} and {label} are both {kind} models; give one of each.")
        source = {"file": label, "sha256": file_sha256(Path(path)), "input_shape": list(model.input_shape[1:])}
        if is_sigmoid_unit(model):
            classes = binary_class_names(classes, label)
            model = as_two_class(model)
            source["sigmoid_unit"] = "one sigmoid output p, served as [1 - p, p] by an appended Dense(2)"
        if settings is None:
            settings = settings_from_model(model, label, base, frames, size)
        shapes[label] = tuple(model.input_shape[1:])
        if len(set(shapes.values())) > 1:
            a, b = shapes
            raise BundleError(
                f"{a} takes clips of shape {shapes[a]} and {b} of {shapes[b]}: a bundle serves one clip shape, "
                "so import them into separate bundles."
            )
        if classes is None:
            if model.output_shape[-1] != len(REPORT_CLASSES):
                raise BundleError(
                    f"{label} predicts {model.output_shape[-1]} classes; give their names in output order with --classes."
                )
            classes = list(REPORT_CLASSES)
        check_model_shapes(model, classes, settings, f"{label} ({kind})")
        models[kind] = model
        sources[kind] = source
    if not models:
        raise BundleError("Give one or two model files (positional, or --convlstm/--lrcn).")
    scratch = new_scratch(Path(out), "import", named=False)
    try:
        entries = save_models(scratch, models)
        manifest = new_manifest(
            name=name,
            classes=classes,
            settings=settings,
            models=entries,
            source="imported",
            dataset={"name": "unknown (imported weights)", "synthetic": False},
            extra={"imported_from": sources},
        )
        write_manifest(scratch, manifest)
        return publish(scratch, Path(out), overwrite)
    finally:
        if scratch.exists() and is_scratch(scratch):
            remove_scratch(scratch)  # a failed import leaves nothing behind


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", type=Path, help="one or two .h5/.keras files (kind detected)")
    parser.add_argument("--convlstm", type=Path, help="the ConvLSTM file (instead of detection)")
    parser.add_argument("--lrcn", type=Path, help="the LRCN file (instead of detection)")
    parser.add_argument(
        "--classes",
        default=None,
        help="class names in output order (default: the report's four for a 4-class model; "
        "a binary one-sigmoid model takes NEGATIVE,POSITIVE or one name X for 'not X',X)",
    )
    parser.add_argument("--out", type=Path, required=True, help="bundle folder to write (new, empty, or a bundle)")
    parser.add_argument("--overwrite", action="store_true", help="replace the bundle already at --out")
    parser.add_argument("--name", default="tutorial-import", help="bundle name in the manifest")
    parser.add_argument("--frames", type=int, default=None, help="frames per clip (default: the model's input)")
    parser.add_argument("--size", type=int, default=None, help="frame height and width (default: the model's input)")
    parser.add_argument("--sampling", default="tutorial", choices=("tutorial", "uniform"))
    parser.add_argument("--color-order", default="bgr", choices=("bgr", "rgb"))


def run(args: argparse.Namespace) -> int:
    classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
    base = TUTORIAL_SETTINGS.with_(sampling=args.sampling, color_order=args.color_order)
    explicit = {kind: getattr(args, kind) for kind in ("convlstm", "lrcn") if getattr(args, kind)}
    if explicit and args.files:
        print("error: give the files either positionally or with --convlstm/--lrcn, not both.", file=sys.stderr)
        return 2
    try:
        check_output(args.out, args.overwrite)  # before loading Keras: a refusal should be instant
        out = import_bundle(
            args.out,
            explicit or list(args.files),
            classes,
            name=args.name,
            overwrite=args.overwrite,
            base=base,
            frames=args.frames,
            size=args.size,
        )
    except (BundleError, OutputRefused, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    manifest = read_manifest(out)
    clip = manifest.clip
    shape = f"{clip.frames} frames of {clip.height}x{clip.width}" + (" grayscale" if clip.channels == 1 else "")
    print(f"Wrote bundle {out} with {', '.join(manifest.models)} for classes {', '.join(manifest.classes)} ({shape})")
    return 0
