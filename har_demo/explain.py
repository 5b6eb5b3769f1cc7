"""What the models looked at: per-frame Grad-CAM and frame importance, on any Keras backend.

Grad-CAM (Selvaraju et al. 2017), per frame as for video models (cf. the Keras 2 video version in
tylerlum/covid19_pocus_ultrasound): take the spatial feature maps A (batch, T, h, w, K)
of one TimeDistributed Conv2D (LRCN) or ConvLSTM2D (ConvLSTM), which one: see below, and the
gradient of the chosen class's score (before the softmax) with respect to them; each frame's map is relu(sum_k mean_hw(dy/dA_tk) * A_tk).
The model is split at that layer (a body up to it, a head after it) so only the gradient of the
head is needed; it comes from the active backend (tf.GradientTape, jax.grad, torch.autograd), the
rest is keras.ops and NumPy, so the same code runs on TensorFlow, JAX and PyTorch.

Frame importance needs no gradient: how much the top class's probability drops when one frame
is replaced by its neighbour (a frame the model could do without drops it by ~0).

The last maps are coarse by construction: LRCN's last conv map is 2x2 and ConvLSTM's 5x5 for
64x64 frames. On synthetic clips with known actor boxes, LRCN's 2x2 map did not favour the actor,
and the shipped ConvLSTM's 5x5 map barely did (median box/background ratio 1.07), while their
finer maps do (LRCN's 16x16 conv_2: 2.2; ConvLSTM's 29x29 conv_lstm_2: 3.1). So by default
(`choose_layer`) each model is explained at its last map of at least 16x16; `layer="last"` gives
the last.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

MIN_MAP_SIZE = 16  # choose_layer: the coarsest feature map explained by default (see the docstring)


class ExplainError(ValueError):
    """A model that Grad-CAM cannot explain (no spatial feature maps over time); the message says why."""


@dataclass
class Saliency:
    """One model's per-frame Grad-CAM for one clip and one class."""

    model: str
    layer: str
    class_index: int
    label: str
    probability: float  # the class's probability on the unchanged clip
    raw: np.ndarray  # (T, h, w) float32, >= 0, at the layer's resolution
    maps: np.ndarray  # (T, H, W) float32 in [0, 1], upsampled to the frames, normalised over the whole clip

    @property
    def frame_mass(self) -> np.ndarray:
        """(T,) share of the clip's saliency in each frame (sums to 1, or all 0 for an empty map)."""
        mass = self.raw.reshape(len(self.raw), -1).sum(axis=1)
        total = mass.sum()
        return mass / total if total > 0 else mass


@dataclass
class FrameImportance:
    """How much the top class's probability drops when each frame is replaced by its neighbour."""

    model: str
    class_index: int
    label: str
    probability: float
    drops: np.ndarray  # (T,) probability points, positive = the frame helped the answer


def layer_outputs(model) -> tuple[Any, dict[str, Any], Any]:
    """(input, layer name -> its symbolic output, the model's output) of one graph of the model.

    Why: a Keras 3 Sequential loaded from a tutorial's .h5 was built but never called, so its
    layers and the model itself have no defined output; the same layers called once on a fresh
    Input make a functional graph (sharing the weights) that can be cut at any layer. A
    functional model already is one.
    """
    import keras

    if not isinstance(model, keras.Sequential):
        return model.inputs[0], {layer.name: layer.output for layer in model.layers}, model.outputs[0]
    cached = _GRAPHS.get(model)
    if cached is None:
        try:
            shape = tuple(model.inputs[0].shape)
        except (AttributeError, ValueError, IndexError):
            raise ExplainError(f"{model.name} has no known input shape to explain.") from None
        x = inputs = keras.Input(batch_shape=shape, name=f"{model.name}_frames")
        outputs = {}
        for layer in model.layers:
            x = outputs[layer.name] = layer(x)
        cached = _GRAPHS[model] = (inputs, outputs, x)
    return cached


def spatial_layers(model) -> list[tuple[str, int, int]]:
    """(name, h, w) of every ConvLSTM2D or TimeDistributed Conv2D layer with (batch, time, h, w, k) output."""
    import keras

    outputs = layer_outputs(model)[1]
    found = []
    for layer in model.layers:
        is_conv = isinstance(layer, keras.layers.ConvLSTM2D) or (
            isinstance(layer, keras.layers.TimeDistributed) and isinstance(layer.layer, keras.layers.Conv2D)
        )
        shape = outputs[layer.name].shape
        if is_conv and len(shape) == 5:
            found.append((layer.name, int(shape[2]), int(shape[3])))
    if not found:
        raise ExplainError(f"{model.name} has no ConvLSTM2D or TimeDistributed Conv2D layer to explain.")
    return found


def last_spatial_layer(model) -> str:
    """The last spatial layer: what the issue names (LRCN conv_4, 2x2; ConvLSTM conv_lstm_4, 5x5)."""
    return spatial_layers(model)[-1][0]


def choose_layer(model, min_size: int = MIN_MAP_SIZE) -> str:
    """The last spatial layer whose maps are at least min_size x min_size (else the last one).

    Why: on the synthetic clips the last maps (LRCN 2x2, ConvLSTM 5x5) put Grad-CAM on the
    background about as often as on the actor, while LRCN's 16x16 conv_2 and ConvLSTM's 29x29
    conv_lstm_2 favour the actor (tests/test_explain.py measures it).
    """
    layers = spatial_layers(model)
    fine = [name for name, h, w in layers if min(h, w) >= min_size]
    return fine[-1] if fine else layers[-1][0]


def split_model(model, layer_name: str):
    """(body, head, logits): body maps the clip to the layer's output, head maps that output to the
    probabilities, and logits (None unless the model ends in a softmax Dense) to the scores before softmax."""
    import keras

    inputs, outputs, output = layer_outputs(model)
    features = outputs[model.get_layer(layer_name).name]
    body = keras.Model(inputs, features, name=f"{model.name}_body")
    head = keras.Model(features, output, name=f"{model.name}_head")
    last = model.layers[-1]
    logits = None
    if isinstance(last, keras.layers.Dense) and last.activation is keras.activations.softmax:
        if isinstance(model, keras.Sequential):  # what feeds the last layer in our graph
            feeding = outputs[model.layers[-2].name] if len(model.layers) > 1 else inputs
        else:
            feeding = last.input
        before = keras.Model(features, feeding, name=f"{model.name}_features")

        def logits(features):
            from keras import ops

            z = ops.matmul(before(features, training=False), last.kernel)
            return z + last.bias if last.use_bias else z

    return body, head, logits


def backend_gradient(fn: Callable, x: np.ndarray) -> np.ndarray:
    """d fn(x) / dx for a scalar-valued fn of one tensor, with the active Keras backend's autodiff."""
    import keras
    from keras import ops

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensor = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            value = fn(tensor)
        return np.asarray(tape.gradient(value, tensor))
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(fn)(ops.convert_to_tensor(x)))
    if backend == "torch":
        tensor = ops.convert_to_tensor(x).detach().requires_grad_(True)
        fn(tensor).backward()
        return tensor.grad.detach().cpu().numpy()
    raise ExplainError(f"Grad-CAM needs gradients, and the {backend!r} backend has none here.")


class GradCam:
    """A model split once at its last spatial layer; `explain(x)` is then one forward and one backward pass."""

    def __init__(self, model, name: str, layer: str | None = None) -> None:
        """layer: a layer name, "last" for the last spatial layer, None for `choose_layer`."""
        self.model, self.name = model, name
        self.layer = last_spatial_layer(model) if layer == "last" else (layer or choose_layer(model))
        self.body, self.head, self.logits = split_model(model, self.layer)

    def explain(self, x: np.ndarray, classes: list[str], class_index: int | None = None) -> Saliency:
        """x: one model-ready clip (T, H, W, 3) float32 (or a batch of one)."""
        from keras import ops

        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 4:
            x = x[None]
        if x.ndim != 5 or len(x) != 1:
            raise ExplainError(f"expected one clip (T, H, W, 3), got an array of shape {x.shape}")
        features = np.asarray(ops.convert_to_numpy(self.body(x, training=False)), dtype=np.float32)
        probs = np.asarray(ops.convert_to_numpy(self.head(features, training=False)), dtype=np.float32)[0]
        index = int(np.argmax(probs)) if class_index is None else int(class_index)
        if not 0 <= index < len(probs):
            raise ExplainError(f"class index {index} is outside the model's {len(probs)} classes")
        # The score before softmax, as in the Grad-CAM paper: a softmax near 1 has almost no gradient.
        score = self.logits or (lambda f: self.head(f, training=False))
        grads = backend_gradient(lambda f: ops.sum(score(f)[:, index]), features)
        weights = grads[0].mean(axis=(1, 2), keepdims=True)  # (T, 1, 1, K): one weight per frame and channel
        raw = np.maximum((weights * features[0]).sum(axis=-1), 0.0).astype(np.float32)  # (T, h, w)
        return Saliency(
            model=self.name,
            layer=self.layer,
            class_index=index,
            label=classes[index],
            probability=float(probs[index]),
            raw=raw,
            maps=upsample(raw, x.shape[2], x.shape[3]),
        )


def upsample(raw: np.ndarray, height: int, width: int) -> np.ndarray:
    """(T, h, w) maps -> (T, height, width) in [0, 1], bilinear, one scale for the whole clip."""
    peak = float(raw.max()) if raw.size else 0.0
    scaled = raw / peak if peak > 0 else np.zeros_like(raw)
    out = [cv2.resize(m.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR) for m in scaled]
    return np.clip(np.stack(out), 0.0, 1.0).astype(np.float32)


def neighbour_swaps(x: np.ndarray) -> np.ndarray:
    """(T, H, W, C) clip -> (T, T, H, W, C): variant t has frame t replaced by frame t-1 (frame 0 by frame 1)."""
    x = np.asarray(x)
    count = len(x)
    variants = np.repeat(x[None], count, axis=0)
    for t in range(count):
        variants[t, t] = x[t - 1] if t > 0 else x[min(1, count - 1)]
    return variants


def frame_importance(
    predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, classes: list[str], name: str
) -> FrameImportance:
    """`predict` maps model input (B, T, H, W, 3) to probabilities (B, C); x is one model-ready clip."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 5:
        x = x[0]
    batch = np.concatenate([x[None], neighbour_swaps(x)])
    probs = np.asarray(predict(batch), dtype=np.float32)
    index = int(np.argmax(probs[0]))
    return FrameImportance(
        model=name,
        class_index=index,
        label=classes[index],
        probability=float(probs[0, index]),
        drops=(probs[0, index] - probs[1:, index]).astype(np.float32),
    )


def colour_map(maps: np.ndarray) -> np.ndarray:
    """(T, H, W) in [0, 1] -> (T, H, W, 3) uint8 RGB heat colours (JET: blue = none, red = most)."""
    heat = (np.clip(maps, 0, 1) * 255).astype(np.uint8)
    return np.stack([cv2.applyColorMap(m, cv2.COLORMAP_JET)[..., ::-1] for m in heat])


def overlay(frames_rgb: np.ndarray, maps: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Blend heat maps onto RGB frames (T, H, W, 3) uint8; maps are resized to the frames if needed.

    The blend is weighted by the map itself, so frames stay visible where the model looked at nothing.
    """
    frames_rgb = np.asarray(frames_rgb, dtype=np.uint8)
    t, height, width, _ = frames_rgb.shape
    if maps.shape[1:] != (height, width):
        maps = np.stack([cv2.resize(m, (width, height), interpolation=cv2.INTER_LINEAR) for m in maps])
    weight = (alpha * np.clip(maps, 0, 1))[..., None]
    blended = (1 - weight) * frames_rgb + weight * colour_map(maps)
    return np.clip(blended, 0, 255).astype(np.uint8)


def box_mass_ratio(saliency_map: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Mean saliency inside the box divided by mean saliency outside it: an equal area of box
    against background; > 1 means the map favours the box. inf when the background has none."""
    x0, y0, x1, y1 = box
    inside = np.zeros(saliency_map.shape, dtype=bool)
    inside[y0:y1, x0:x1] = True
    if inside.all() or not inside.any():
        raise ValueError("the box must cover part of the frame, not all or none of it")
    mean_in, mean_out = float(saliency_map[inside].mean()), float(saliency_map[~inside].mean())
    if mean_out == 0:
        return float("inf") if mean_in > 0 else 1.0
    return mean_in / mean_out


def explain_clip(
    models: dict, frames_input: np.ndarray, classes: list[str], layer: str | None = None
) -> dict[str, Saliency]:
    """Grad-CAM of every model's top class for one model-ready clip (T, H, W, 3) float32."""
    return {name: GradCam(model, name, layer).explain(frames_input, classes) for name, model in models.items()}


_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Sequential model -> layer_outputs
_CAMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its GradCam (split once)


def gradcam_for(model, name: str) -> GradCam:
    """The model's GradCam at the default layer, built once per loaded model."""
    cam = _CAMS.get(model)
    if cam is None:
        cam = _CAMS[model] = GradCam(model, name)
    return cam


@dataclass
class Explanation:
    """Both kinds of explanation of one clip, for every model; and the attention head's own weights."""

    saliency: dict[str, Saliency]
    importance: dict[str, FrameImportance]
    seconds: float
    attention: dict[str, np.ndarray] = field(default_factory=dict)  # model -> (T,) weights summing to 1


def explain_prediction(predictor, frames: np.ndarray) -> Explanation:
    """Grad-CAM (on each loaded model) and frame importance (on each fast runner) for one clip.

    `predictor` is a har_demo.inference.Predictor; frames are its uint8 clip (T, H, W, 3).
    """
    from har_demo.clip import to_model_input
    from har_demo.pretrained import frame_attention, is_pretrained

    started = time.perf_counter()
    x = to_model_input(np.asarray(frames)[None], predictor.settings)[0]
    saliency, importance, attention = {}, {}, {}
    with predictor.calls:  # not while the Predictor's warm-up thread traces the same models
        for name, model in predictor.models.items():
            if not is_pretrained(model):  # its frozen encoder is one nested layer: frame importance only
                saliency[name] = gradcam_for(model, name).explain(x, predictor.classes)
            runner = predictor.runners[name]
            importance[name] = frame_importance(runner.predict_on_batch, x, predictor.classes, name)
            weights = frame_attention(model, x[None])  # None unless the head is attention pooling
            if weights is not None:
                attention[name] = weights[0]
    return Explanation(saliency, importance, time.perf_counter() - started, attention)
