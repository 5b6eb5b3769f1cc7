"""Start a model from a trained bundle's weights instead of Keras's random ones (transfer learning).

Why: from random weights, a tiny set (about ten clips a class) gives too few steps for ConvLSTM to
start learning at all, and LRCN learns the rooms; both models of the shipped bundle, trained on
1,200 synthetic clips, start from features that already follow moving shapes (measured in
training/tiny.py). Every layer but the last is copied; the last (the classifier, one unit per
class) keeps its fresh weights, so the classes need not match. The source is any bundle reference
`load_bundle` takes (a folder, `weights` for the shipped bundle, a Hub `OWNER/NAME[@REV]`), loaded
with its hashes checked and in safe mode, like every bundle.
"""

from __future__ import annotations

from pathlib import Path

from har_demo.clip import ClipSettings
from har_demo.shipped import SHIPPED_BUNDLE, SHIPPED_NAME

SHIPPED_REF = SHIPPED_NAME  # "weights": always the bundle this package ships (a folder of that name: ./weights)


class WarmStartError(ValueError):
    """The source bundle cannot start this model: missing model, other clip shape or layers."""


def _shape(settings: ClipSettings) -> tuple[int, int, int, int]:
    return (settings.frames, settings.height, settings.width, settings.channels)


def _described(settings: ClipSettings) -> str:
    colour = "" if settings.channels == 3 else f" ({settings.channels} channel)"
    return f"{settings.frames} frames of {settings.height}x{settings.width}{colour}"


def _where(ref: str) -> tuple[Path, str]:
    """The folder `ref` names and where it came from, in words; `weights` is the shipped bundle wherever one runs."""
    from har_demo.loader import resolve_bundle_path

    return (SHIPPED_BUNDLE, "the shipped weights") if ref == SHIPPED_REF else resolve_bundle_path(ref)


def check_source(ref: str, models: tuple[str, ...] | list[str], settings: ClipSettings) -> None:
    """Refuse, before any slow work, a source without these models or made for clips of another shape.

    Reads the source's manifest only (its weights are loaded, hashes checked, when each model starts).
    """
    from har_demo.bundle import BundleError, read_manifest

    try:
        path, origin = _where(ref)
        manifest = read_manifest(path)
    except (BundleError, OSError) as exc:
        raise WarmStartError(f"Cannot start the models from {ref}: {exc}") from None
    missing = [name for name in models if name not in manifest.models]
    if missing:
        raise WarmStartError(
            f"Cannot start {', '.join(missing)} from {origin}: it has only {', '.join(manifest.models)}."
        )
    if _shape(manifest.clip) != _shape(settings):
        raise WarmStartError(
            f"Cannot start the models from {origin}: its models take {_described(manifest.clip)}, "
            f"this run's clips are {_described(settings)}."
        )


def source_fits(ref: str, models: tuple[str, ...] | list[str], settings: ClipSettings) -> bool:
    """Whether `ref` can start every model of `models` for clips of this shape."""
    try:
        check_source(ref, models, settings)
    except WarmStartError:
        return False
    return True


def warm_start(model, name: str, ref: str, settings: ClipSettings) -> dict:
    """Copy every layer of bundle `ref`'s `name` model but the last into `model`; what was copied, in a dict.

    Refused with a WarmStartError when the source has no such model, was made for clips of another
    shape, or its layers differ from `model`'s.
    """
    from har_demo import hub
    from har_demo.bundle import BundleError, load_bundle_folder

    check_source(ref, (name,), settings)
    try:
        path, origin = _where(ref)
        bundle = load_bundle_folder(path, models=[name], origin=origin, links_within=hub.snapshot_links_root(path))
    except BundleError as exc:
        raise WarmStartError(f"Cannot start {name} from {ref}: {exc}") from None
    source = [layer for layer in bundle.models[name].layers if layer.weights]
    target = [layer for layer in model.layers if layer.weights]
    shapes = [[tuple(w.shape) for w in layer.weights] for layer in source[:-1]]
    if len(source) != len(target) or shapes != [[tuple(w.shape) for w in layer.weights] for layer in target[:-1]]:
        raise WarmStartError(f"Cannot start {name} from {bundle.origin}: its {name} model has other layers.")
    for src, dst in zip(source[:-1], target[:-1]):
        dst.set_weights(src.get_weights())
    entry = bundle.manifest.models[name]
    return {
        "from": bundle.origin,
        "layers_copied": len(source) - 1,
        "layers": len(source),
        "sha256": bundle.manifest.files.get(entry.file, ""),
    }
