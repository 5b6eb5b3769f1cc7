"""The report's two models, layer for layer (see the report's Figures 1 and 2).

For 4 classes and 20 x 64 x 64 x 3 clips: ConvLSTM has 44,524 parameters, LRCN 73,060.
The third kind, the LRCN on a pretrained frame encoder, is built in pretrained.py.
"""

from __future__ import annotations

import keras
from keras import layers

from har_demo.names import ALL_MODEL_NAMES, DISPLAY_NAMES, MODEL_NAMES  # noqa: F401  (re-exported)


def build_convlstm(num_classes: int, frames: int = 20, height: int = 64, width: int = 64) -> keras.Model:
    """Four ConvLSTM2D blocks (4, 8, 14, 16 filters), each pooled 2x2 in space, then softmax."""
    inputs = keras.Input(shape=(frames, height, width, 3), name="frames")
    x = inputs
    for i, filters in enumerate((4, 8, 14, 16)):
        x = layers.ConvLSTM2D(
            filters,
            kernel_size=(3, 3),
            activation="tanh",
            data_format="channels_last",
            recurrent_dropout=0.2,
            return_sequences=True,
            name=f"conv_lstm_{i + 1}",
        )(x)
        x = layers.MaxPooling3D(pool_size=(1, 2, 2), padding="same", name=f"pool_{i + 1}")(x)
        if filters != 16:  # the last block goes straight to Flatten
            x = layers.TimeDistributed(layers.Dropout(0.2), name=f"dropout_{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="convlstm")


def build_lrcn(num_classes: int, frames: int = 20, height: int = 64, width: int = 64) -> keras.Model:
    """A small per-frame CNN (16, 32, 64, 64 filters) feeding an LSTM of 32 units, then softmax."""
    inputs = keras.Input(shape=(frames, height, width, 3), name="frames")
    x = inputs
    blocks = ((16, 4, 0.25), (32, 4, 0.25), (64, 2, 0.25), (64, 2, None))
    for i, (filters, pool, dropout) in enumerate(blocks):
        x = layers.TimeDistributed(
            layers.Conv2D(filters, (3, 3), padding="same", activation="relu"), name=f"conv_{i + 1}"
        )(x)
        x = layers.TimeDistributed(layers.MaxPooling2D((pool, pool)), name=f"pool_{i + 1}")(x)
        if dropout is not None:
            x = layers.TimeDistributed(layers.Dropout(dropout), name=f"dropout_{i + 1}")(x)
    x = layers.TimeDistributed(layers.Flatten(), name="flatten")(x)
    x = layers.LSTM(32, name="lstm")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="lrcn")


def build_pretrained_lstm(num_classes: int, frames: int = 20, height: int = 128, width: int = 128) -> keras.Model:
    """The LRCN on frozen ImageNet EfficientNet-Lite0 frames, then the report's LSTM (pretrained.py)."""
    from har_demo.pretrained import build_pretrained

    return build_pretrained(num_classes, frames, height, width, head="lstm", name="pretrained")


def build_pretrained_attention(num_classes: int, frames: int = 20, height: int = 128, width: int = 128) -> keras.Model:
    """The same encoder, then attention pooling over the frames instead of the LSTM (pretrained.py)."""
    from har_demo.pretrained import build_pretrained

    return build_pretrained(num_classes, frames, height, width, head="attention", name="pretrained_attention")


BUILDERS = {
    "convlstm": build_convlstm,
    "lrcn": build_lrcn,
    "pretrained": build_pretrained_lstm,
    "pretrained_attention": build_pretrained_attention,
}


def build_model(name: str, num_classes: int, frames: int = 20, height: int = 64, width: int = 64) -> keras.Model:
    """Build a model by its key: `convlstm`, `lrcn`, `pretrained` or `pretrained_attention`."""
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(ALL_MODEL_NAMES)}") from None
    return builder(num_classes, frames=frames, height=height, width=width)


def layer_table(model: keras.Model) -> list[dict]:
    """Layer name, type, output shape and parameter count: the report's figures as data."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        kind = type(layer).__name__
        if isinstance(layer, layers.TimeDistributed):
            kind = f"TimeDistributed({type(layer.layer).__name__})"
        output = getattr(layer, "output", None)
        if isinstance(output, (list, tuple)):  # attention pooling: (pooled, weights); the model goes on with the first
            output = output[0]
        shape = tuple(output.shape) if output is not None else ()
        rows.append(
            {
                "name": layer.name,
                "type": kind,
                "output_shape": [None if d is None else int(d) for d in shape],
                "params": int(layer.count_params()),
            }
        )
    return rows
