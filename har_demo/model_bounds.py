"""What a visitor's model may ask of the server, checked from its files before Keras loads it.

A 33 KB `.keras` can declare an input of 20x1024x1024x3: loading it is cheap, but every clip and
timeline window it is fed then takes gigabytes. The declared input shape is read from the model's
JSON config (config.json inside a `.keras` zip, the `model_config` attribute of an `.h5`) and a
bundle's clip settings from its manifest, and both are held to the host's bounds (frames, height,
width, channels). The same shapes give the memory estimate the app's session capacity follows.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from har_demo.bundle import BundleError

MB = 1024 * 1024
MAX_CONFIG_BYTES = 4 * MB  # a model's JSON config; the report's models have ~20 KB
# A loaded, warmed model besides its weights, and the intermediate tensors of one batch in multiples of
# the batch's input bytes. Estimate for the shipped bundle: ~190 MB a session; measured on CPU (RSS after
# loading and warming another copy for a clip and a 32-window batch): 105-120 MB.
MODEL_OVERHEAD_BYTES = 32 * MB
ACTIVATION_FACTOR = 1


class ModelTooLarge(BundleError):
    """A model whose declared input is beyond the host's bounds; the message says which and why."""


@dataclass(frozen=True)
class ModelBounds:
    """The host's bounds on a served model's input (har_demo.request_limits.Limits.model_*)."""

    max_frames: int = 64
    max_side: int = 256
    max_channels: int = 3

    def check(self, frames: int, height: int, width: int, channels: int, label: str) -> None:
        """ModelTooLarge unless frames x height x width x channels is within the bounds."""
        problems = []
        if frames > self.max_frames:
            problems.append(f"{frames} frames (the most is {self.max_frames})")
        if max(height, width) > self.max_side:
            problems.append(f"{height}x{width} pixels a frame (the most is {self.max_side} a side)")
        if channels > self.max_channels:
            problems.append(f"{channels} channels (the most is {self.max_channels})")
        if problems:
            raise ModelTooLarge(
                f"{label} takes clips of {frames}x{height}x{width}x{channels}: {', '.join(problems)}. "
                "This server does not serve models that large; the model was not loaded."
            )


def _model_config(path: Path) -> Any:
    """The JSON config of a .keras or .h5 file, without building the model (None when there is none)."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            try:
                info = archive.getinfo("config.json")
            except KeyError:
                return None
            if info.file_size > MAX_CONFIG_BYTES:
                raise BundleError(
                    f"{path.name} has a {info.file_size:,}-byte config; that is not a model of this demo."
                )
            return json.loads(archive.read(info))
    try:
        import h5py
    except ImportError:  # pragma: no cover  (h5py comes with TensorFlow and Keras)
        return None
    try:
        with h5py.File(path, "r") as handle:
            text = handle.attrs.get("model_config")
    except OSError:
        return None  # not HDF5: the loader says what it is
    if text is None:
        return None
    text = text.decode() if isinstance(text, bytes) else str(text)
    if len(text) > MAX_CONFIG_BYTES:
        raise BundleError(f"{path.name} has a {len(text):,}-byte config; that is not a model of this demo.")
    return json.loads(text)


def declared_input_shape(path: str | Path) -> tuple[int, ...] | None:
    """The largest 5-D input (frames, height, width, channels) the file's config declares for the model.

    Inputs are declared as `batch_shape` (Keras 3 InputLayer), `batch_input_shape` (Keras 2: the
    InputLayer or the first layer) or the model's own `build_config.input_shape`; the layers'
    own build shapes (intermediate tensors) are not inputs.
    """
    config = _model_config(Path(path))
    candidates: list = []
    if isinstance(config, dict):
        candidates.append((config.get("build_config") or {}).get("input_shape"))
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            candidates += [node.get("batch_shape"), node.get("batch_input_shape")]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(n for n in node if isinstance(n, dict | list))
    found = [
        tuple(shape[1:])
        for shape in candidates
        if isinstance(shape, list) and len(shape) == 5 and all(isinstance(d, int) for d in shape[1:])
    ]
    if not found:
        return None
    return max(found, key=lambda s: s[0] * s[1] * s[2] * s[3])


def check_model_file(path: str | Path, bounds: ModelBounds, label: str) -> tuple[int, ...] | None:
    """The declared input of a model file, refused (ModelTooLarge) beyond the bounds."""
    shape = declared_input_shape(path)
    if shape is not None:
        bounds.check(*shape, label=label)
    return shape


def estimate_bytes(
    weight_bytes: int, models: int, frames: int, height: int, width: int, channels: int, batch: int
) -> int:
    """What `models` loaded models take to serve: overhead, weights, and a batch of inputs with its activations."""
    batch_input = batch * frames * height * width * channels * 4
    return models * (MODEL_OVERHEAD_BYTES + (1 + ACTIVATION_FACTOR) * batch_input) + 4 * int(weight_bytes)


def batch_windows(frames: int, height: int, width: int, channels: int, batch_bytes: int, most: int) -> int:
    """Timeline windows per model call: as many as fit in `batch_bytes` of float32 input, 1 to `most`."""
    return int(max(1, min(most, batch_bytes // max(1, frames * height * width * channels * 4))))
