"""The third model kind: the report's LRCN with its per-frame CNN replaced by pretrained EfficientNet-Lite0.

clip (B, T, H, W, 3), as the bundle's ClipSettings make it
  -> LiteInput: the encoder's own input, (RGB x 0..255 - 127) / 128, whatever scale and colour order
  -> FramesToBatch -> Lite0 (frozen, ImageNet weights; encoder.py) -> BatchToFrames: (B, T, 1280)
  -> a head: the report's LSTM of 32 units ("pretrained"), or attention pooling over the frames
     ("pretrained_attention"), whose per-frame weights `frame_attention` reads out
  -> Dense softmax.

The custom layers are registered Keras serializables (no Lambda), so a bundle's .keras file loads in
safe mode; the encoder's weights are saved in it like any layer's. The frame size is the bundle's:
the encoder is fully convolutional and pools over space (128 px is the measured default,
docs/pretrained.md).
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
from keras import layers, ops

from har_demo.encoder import EMBEDDING_SIZE, build_lite0, load_imagenet_weights

PACKAGE = "har_demo"
HEADS = {"pretrained": "lstm", "pretrained_attention": "attention"}
DEFAULT_SIZE = 128  # chosen by measurement: docs/pretrained.md
ENCODER = "lite0"
EMBEDDINGS = "frame_embeddings"
LAST_BLOCK_INPUT = "block14_add"  # the encoder's last block (block15, 192 -> 320 channels) reads this


@keras.saving.register_keras_serializable(package=PACKAGE)
class LiteInput(layers.Layer):
    """Frames as the bundle makes them -> the encoder's input: RGB on 0..255, then (x - 127) / 128."""

    def __init__(self, scale: str = "unit", color_order: str = "bgr", **kwargs) -> None:
        super().__init__(**kwargs)
        self.scale, self.color_order = scale, color_order

    def call(self, x):
        if self.scale == "unit":
            x = x * 255.0
        if self.color_order == "bgr":
            x = ops.flip(x, axis=-1)
        return (x - 127.0) / 128.0

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "color_order": self.color_order}


@keras.saving.register_keras_serializable(package=PACKAGE)
class FramesToBatch(layers.Layer):
    """(B, T, H, W, C) -> (B*T, H, W, C): the encoder sees every frame of every clip in one batch."""

    def call(self, x):
        shape = ops.shape(x)
        return ops.reshape(x, (-1, *shape[2:]))

    def compute_output_shape(self, input_shape):
        return (None, *input_shape[2:])


@keras.saving.register_keras_serializable(package=PACKAGE)
class BatchToFrames(layers.Layer):
    """(B*T, D) -> (B, T, D): the frame embeddings back in clip order."""

    def __init__(self, frames: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.frames = int(frames)

    def call(self, x):
        return ops.reshape(x, (-1, self.frames, ops.shape(x)[-1]))

    def compute_output_shape(self, input_shape):
        return (None, self.frames, input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "frames": self.frames}


@keras.saving.register_keras_serializable(package=PACKAGE)
class AttentionPooling(layers.Layer):
    """Attention pooling over time: score_t = v . tanh(W e_t + b), a = softmax_t(score), out = sum_t a_t e_t.

    Returns (pooled (B, D), weights (B, T)): the weights say which frames the answer rests on.
    """

    def __init__(self, units: int = 64, **kwargs) -> None:
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape) -> None:
        dim = int(input_shape[-1])
        self.w = self.add_weight(shape=(dim, self.units), initializer="glorot_uniform", name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")
        self.v = self.add_weight(shape=(self.units,), initializer="glorot_uniform", name="v")

    def call(self, x):
        scores = ops.sum(ops.tanh(ops.matmul(x, self.w) + self.b) * self.v, axis=-1)  # (B, T)
        weights = ops.softmax(scores, axis=-1)
        pooled = ops.sum(x * weights[..., None], axis=1)
        return pooled, weights

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1]), (input_shape[0], input_shape[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units}


def head_layers(head: str, num_classes: int) -> list[layers.Layer]:
    """The trainable part after the embeddings; the same layer objects serve the whole model and the
    embeddings-only model that training fits (training/embeddings.py)."""
    if head == "lstm":
        core = layers.LSTM(32, name="lstm")  # the report's LRCN head
    elif head == "attention":
        core = AttentionPooling(64, name="attention")
    else:
        raise ValueError(f"head must be lstm or attention, not {head!r}")
    return [
        layers.Dropout(0.25, name="embedding_dropout"),
        core,
        layers.Dense(num_classes, activation="softmax", name="probabilities"),
    ]


def apply_head(head: list[layers.Layer], x):
    for layer in head:
        x = layer(x)
        if isinstance(layer, AttentionPooling):
            x = x[0]
    return x


def build_pretrained(
    num_classes: int,
    frames: int = 20,
    height: int = DEFAULT_SIZE,
    width: int = DEFAULT_SIZE,
    head: str = "lstm",
    *,
    scale: str = "unit",
    color_order: str = "bgr",
    imagenet: bool = True,
    name: str = "pretrained",
) -> keras.Model:
    """The whole model on clips; the encoder frozen with ImageNet weights (`imagenet=False`: random,
    for tests of shape; raises encoder.EncoderUnavailable when the weights package is missing)."""
    if height != width:
        raise ValueError(f"the pretrained encoder takes square frames, not {height}x{width}")
    if height < 32:
        raise ValueError(f"the pretrained encoder needs frames of at least 32x32, not {height}x{width}")
    head_stack = head_layers(head, num_classes)  # before the encoder: a bad head is refused at once
    encoder = build_lite0(height, name=ENCODER)
    if imagenet:
        load_imagenet_weights(encoder)
    encoder.trainable = False
    inputs = keras.Input(shape=(frames, height, width, 3), name="frames")
    x = LiteInput(scale, color_order, name="lite_input")(inputs)
    x = FramesToBatch(name="frames_to_batch")(x)
    x = encoder(x, training=False)
    x = BatchToFrames(frames, name=EMBEDDINGS)(x)
    outputs = apply_head(head_stack, x)
    return keras.Model(inputs, outputs, name=name)


def head_model(model: keras.Model) -> keras.Model:
    """Embeddings (B, T, 1280) -> probabilities, sharing `model`'s head layers (training fits this)."""
    frames = model.get_layer(EMBEDDINGS).frames
    inputs = keras.Input(shape=(frames, EMBEDDING_SIZE), name="embeddings")
    names = [l.name for l in model.layers]
    start = names.index(EMBEDDINGS) + 1
    outputs = apply_head(model.layers[start:], inputs)
    return keras.Model(inputs, outputs, name=f"{model.name}_head")


def last_block_layers(model: keras.Model) -> list[layers.Layer]:
    """The encoder's layers after LAST_BLOCK_INPUT: its last block, the head convolution and the pooling (a chain)."""
    encoder = model.get_layer(ENCODER)
    names = [l.name for l in encoder.layers]
    return encoder.layers[names.index(LAST_BLOCK_INPUT) + 1 :]


def unfreeze_last_block(model: keras.Model) -> None:
    """Make the encoder's last block and head convolution trainable; their batch norms stay frozen
    (in inference mode, with ImageNet's statistics: a few clips' batches would only add noise)."""
    encoder = model.get_layer(ENCODER)
    encoder.trainable = True
    tail = {id(l) for l in last_block_layers(model)}
    for layer in encoder.layers:
        layer.trainable = id(layer) in tail and not isinstance(layer, layers.BatchNormalization)


def block_input_model(model: keras.Model) -> keras.Model:
    """Frames (N, H, W, 3) as LiteInput makes them -> the feature maps the last block reads (N, h, w, c)."""
    encoder = model.get_layer(ENCODER)
    return keras.Model(encoder.inputs, encoder.get_layer(LAST_BLOCK_INPUT).output, name=f"{model.name}_block_input")


def fine_tune_model(model: keras.Model) -> keras.Model:
    """Feature maps before the last block (B, T, h, w, c) -> probabilities, sharing `model`'s layers:
    what training fits when the last block is fine-tuned (its input is computed once per clip)."""
    frames = model.get_layer(EMBEDDINGS).frames
    shape = block_input_model(model).output_shape[1:]
    inputs = keras.Input(shape=(frames, *shape), name="block_input")
    x = FramesToBatch(name="block_input_frames")(inputs)
    for layer in last_block_layers(model):
        x = layer(x)
    x = BatchToFrames(frames, name="block_output_frames")(x)
    names = [l.name for l in model.layers]
    outputs = apply_head(model.layers[names.index(EMBEDDINGS) + 1 :], x)
    return keras.Model(inputs, outputs, name=f"{model.name}_fine_tune")


def embedding_model(model: keras.Model) -> keras.Model:
    """Clips -> (B, T, 1280) frame embeddings: the frozen part of `model`, computed once per clip."""
    return keras.Model(model.inputs, model.get_layer(EMBEDDINGS).output, name=f"{model.name}_embeddings")


def is_pretrained(model: keras.Model) -> bool:
    return any(l.name == EMBEDDINGS for l in model.layers)


_EMBEDDERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its embedding model (traced once)


def frame_attention(model: keras.Model, clips: np.ndarray) -> np.ndarray | None:
    """The attention head's per-frame weights (B, T), summing to 1 per clip; None for other models."""
    if not is_pretrained(model) or not any(l.name == "attention" for l in model.layers):
        return None
    embedder = _EMBEDDERS.get(model)
    if embedder is None:
        embedder = _EMBEDDERS[model] = embedding_model(model)
    embeddings = embedder.predict_on_batch(np.asarray(clips, dtype=np.float32))
    _, weights = model.get_layer("attention")(embeddings)
    return keras.ops.convert_to_numpy(weights)
