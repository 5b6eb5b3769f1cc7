"""The fast-path rewrite: a model's layers swapped for faster ones with the same weights.

Keras runs TimeDistributed as a loop over the frames and ConvLSTM2D as eight small convolutions
per time step; at inference a clip costs far less as a few large ops. One rewrite, used three times:

  * `inference_model(model)` (har_demo.inference): what the Predictor serves, on every backend;
  * `har_demo.training.export.export_graph(model)`: the TFLite export graph (which adds only what
    a fixed-shape flatbuffer needs: a batch of 1 and unrolled LSTMs);
  * `training_model(model)` (training/fit.py): the graph that training fits. Only the frame loops
    go (TimeDistributed -> `Framewise`, also around dropout, which stays active; 3-D pooling of time
    depth 1 -> 2-D pooling); ConvLSTM2D stays Keras's own, recurrent dropout included (the gain per
    step is in docs/performance.md, "Training without the frame loops").

`fast_layer(layer)` is the rewrite of one layer:

  * dropout of every kind (also inside TimeDistributed) -> `Passthrough` (the identity);
  * TimeDistributed(layer) -> `Framewise`: one call on all (batch * time) frames;
  * MaxPooling3D/AveragePooling3D with a time depth of 1 -> `Framewise` 2-D pooling;
  * ConvLSTM2D -> `FusedConvLSTM2D`: the input convolution of all frames in one call, then one
    recurrent convolution per step for the four gates together, none on the zero first state;
  * anything else -> the layer itself (weights shared, nothing copied).

Only `keras.ops` is used, so the result runs on TensorFlow, JAX and PyTorch alike. The new layers
refuse (ValueError) what they do not implement (masks, initial states); `inference_model` then
serves the model as loaded, and the Predictor checks every rebuilt model against its original.
Import this module only after the Keras backend is chosen (it imports keras).
"""

from __future__ import annotations

import warnings

import keras
from keras import layers, ops

DROPOUTS = (
    layers.Dropout,
    layers.SpatialDropout1D,
    layers.SpatialDropout2D,
    layers.SpatialDropout3D,
    layers.GaussianNoise,
    layers.GaussianDropout,
    layers.AlphaDropout,
)


class Passthrough(keras.layers.Layer):
    """Dropout (or TimeDistributed(Dropout)) at inference: the identity."""

    def call(self, x, mask=None, training=None):
        return x

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="har_demo")
class Framewise(keras.layers.Layer):
    """`inner` on every frame in one call: (B, T, ...) -> (B*T, ...) -> inner -> (B, T, ...).

    Serializable, so a training checkpoint of a `training_model` saves and loads like any model.
    """

    def __init__(self, inner, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name or f"framewise_{inner.name}", **kwargs)
        self.inner = inner  # the source layer object itself: its weights, not a copy

    def get_config(self) -> dict:
        return {**super().get_config(), "inner": keras.saving.serialize_keras_object(self.inner)}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        inner = keras.saving.deserialize_keras_object(config.pop("inner"))
        return cls(inner, **config)

    def call(self, x, mask=None, training=None):
        if mask is not None:
            raise ValueError("the fast path has no masked TimeDistributed; inference_model keeps the original")
        steps = x.shape[1]
        y = self.inner(ops.reshape(x, (-1, *x.shape[2:])))
        return ops.reshape(y, (-1, steps, *y.shape[1:]))

    def compute_output_shape(self, input_shape):
        # Said, not traced: a symbolic trace of every rewritten layer was most of a model's rebuild time.
        frame = self.inner.compute_output_shape((None, *input_shape[2:]))
        return (input_shape[0], input_shape[1], *frame[1:])


def _plain_convlstm(layer) -> bool:
    cell = layer.cell
    return not (
        layer.stateful
        or layer.go_backwards
        or layer.return_state
        or getattr(layer, "zero_output_for_mask", False)
        or cell.data_format != "channels_last"
        or cell.rank != 2
    )


class FusedConvLSTM2D(keras.layers.Layer):
    """ConvLSTM2D (plain case: channels_last, forward, no state) for inference.

    The input convolution of every frame is one call on (B*T) frames; each step then adds one
    recurrent convolution (all four gates at once, Keras does eight convolutions per step) and
    the first step none (its state is zero); one activation call covers the three sigmoid gates.
    Same cell, same weights, same gate order (i, f, c, o).
    """

    def __init__(self, source) -> None:
        super().__init__(name=source.name)
        self.cell = source.cell  # shared weights
        self.return_sequences = source.return_sequences
        self.source_output_shape = source.compute_output_shape

    def compute_output_shape(self, input_shape):
        # The source layer's arithmetic: tracing the 20-step loop symbolically took about 2 s.
        return self.source_output_shape(input_shape)

    def call(self, x, mask=None, training=None, initial_state=None):
        if mask is not None or initial_state is not None:
            raise ValueError(
                "the fast path has no masked ConvLSTM2D or initial state; inference_model keeps the original"
            )
        cell = self.cell
        n, steps = cell.filters, x.shape[1]
        inputs = ops.conv(
            ops.reshape(x, (-1, *x.shape[2:])),
            cell.kernel,
            strides=cell.strides,
            padding=cell.padding,
            dilation_rate=cell.dilation_rate,
        )
        if cell.use_bias:
            inputs = inputs + cell.bias
        inputs = ops.reshape(inputs, (-1, steps, *inputs.shape[1:]))
        h = c = None
        outputs = []
        for t in range(steps):
            g = inputs[:, t]
            if h is not None:  # the state starts at zero: its convolution would add nothing
                g = g + ops.conv(h, cell.recurrent_kernel, strides=1, padding="same")
            gates = cell.recurrent_activation(g)  # elementwise: one call for i, f and o (c's share unused)
            candidate = gates[..., :n] * cell.activation(g[..., 2 * n : 3 * n])
            c = candidate if c is None else gates[..., n : 2 * n] * c + candidate
            h = gates[..., 3 * n :] * cell.activation(c)
            if self.return_sequences:
                outputs.append(h)
        return ops.stack(outputs, axis=1) if self.return_sequences else h


def _framewise_pooling(layer):
    """3-D pooling of time depth 1 as 2-D pooling of every frame, or None if it is not that."""
    if layer.pool_size[0] != 1 or layer.strides[0] != 1 or layer.data_format != "channels_last":
        return None
    pool2d = layers.MaxPooling2D if isinstance(layer, layers.MaxPooling3D) else layers.AveragePooling2D
    inner = pool2d(layer.pool_size[1:], strides=layer.strides[1:], padding=layer.padding, name=f"{layer.name}_2d")
    return Framewise(inner, name=layer.name)


def fast_layer(layer):
    """The inference-only replacement of `layer` (see the module docstring); `layer` if none."""
    inner = layer.layer if isinstance(layer, layers.TimeDistributed) else layer
    if isinstance(inner, DROPOUTS):
        return Passthrough(name=layer.name)
    if isinstance(layer, layers.TimeDistributed):
        return Framewise(layer.layer, name=layer.name)
    if isinstance(layer, (layers.MaxPooling3D, layers.AveragePooling3D)):
        return _framewise_pooling(layer) or layer
    if isinstance(layer, layers.ConvLSTM2D) and _plain_convlstm(layer):
        return FusedConvLSTM2D(layer)
    return layer


def training_layer(layer):
    """The training replacement of `layer`: frame loops become one call; nothing else changes."""
    if isinstance(layer, layers.TimeDistributed):
        return Framewise(layer.layer, name=layer.name)
    if isinstance(layer, (layers.MaxPooling3D, layers.AveragePooling3D)):
        return _framewise_pooling(layer) or layer
    return layer


def training_model(model):
    """`model` rebuilt with `training_layer` for fit(): same weight variables, same layer order.

    `plain_copy` turns it (or one loaded from a checkpoint) back into the model's own layers for
    saving. A model it cannot rebuild comes back unchanged.
    """
    try:
        return keras.models.clone_model(model, clone_function=training_layer)
    except Exception as exc:  # an unusual architecture: train it as it is
        warnings.warn(f"{model.name}: training the model as built ({exc})", stacklevel=2)
        return model


def plain_copy(trained, plain):
    """`plain` (the model's own architecture) with the weights of `trained` (a training_model)."""
    weights = trained.get_weights()
    shapes = [w.shape for w in weights], [tuple(v.shape) for v in plain.weights]
    if shapes[0] != shapes[1]:
        raise ValueError(f"{plain.name}: the trained and the plain model's weights differ in shape")
    plain.set_weights(weights)
    return plain


def inference_model(model, jit_compile: bool | None = None):
    """`model` rebuilt with `fast_layer`: same outputs, same (shared) weight variables.

    A model it cannot rebuild comes back unchanged (with a warning). `jit_compile=None` keeps
    Keras's "auto" choice: XLA on JAX and on GPUs, not for TensorFlow on a CPU, where XLA took
    25-40 s to compile ConvLSTM and ran no faster.
    """
    try:
        fast = keras.models.clone_model(model, clone_function=fast_layer)
    except Exception as exc:  # an unusual architecture: serve it as it is
        warnings.warn(f"{model.name}: serving the model as loaded ({exc})", stacklevel=2)
        return model
    if jit_compile is not None:
        fast.jit_compile = jit_compile
    return fast
