"""`har-demo export --bundle DIR --format tflite [--out DIR]`: LiteRT (TensorFlow Lite) models.

TF 2.21's converter turns the bundle's models into TFLite only with Select TF ops (a symbolic
`While` loop over time for LSTM/ConvLSTM2D, and `MaxPool3D`), which the LiteRT interpreter from
PyPI (`ai-edge-litert`) cannot run. So each model is first rebuilt for export, with the bundle's
weights (the same variables, not retrained), by the same rewrite the app serves
(har_demo.fastpath) plus what a fixed-shape flatbuffer needs:

  * ConvLSTM2D fused and unrolled over the fixed number of frames (fastpath.FusedConvLSTM2D);
  * TimeDistributed(layer) as one call on all frames (a reshape, no Python loop of 20 copies);
  * MaxPooling3D with a pool depth of 1 as a per-frame MaxPooling2D;
  * dropout removed (it is the identity at inference);
  * LSTM with `unroll=True` (one copy of the cell per time step), batch size fixed at 1;
  * the pretrained kind: its frozen encoder kept as it is (plain convolutions), attention
    pooling's pooled output only (its per-frame weights are for the app's Explain panel);

and then converted with builtin ops only. Each .tflite takes the same float32 input as the Keras
model ((1, frames, height, width, 3), made by the bundle's clip settings) and gives the same
softmax. The export checks every model against Keras before writing anything (max abs
probability difference <= TOLERANCE) and writes OUT/export.json with sizes, ops and the check.

Run a written model with `TFLiteRunner(path).predict(x)` (ai-edge-litert's Interpreter).
The converter is TensorFlow's: under another Keras backend the export says so and stops.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FORMATS = ("tflite",)
TOLERANCE = 1e-4  # max abs difference of class probabilities, TFLite vs Keras, float32 both
EXPORT_MANIFEST = "export.json"


class ExportError(RuntimeError):
    """A model this exporter cannot turn into builtin-ops TFLite; the message says why."""


# ----------------------------------------------------------------------------- the export graph


def _export_layer(layer):
    """The layer to use in the export graph, or None to drop it (identity at inference).

    The inference fast path's rewrite (har_demo.fastpath: frames at once, fused ConvLSTM2D,
    framewise pooling, no dropout) first; then what only a fixed-shape flatbuffer needs: LSTMs
    (and recurrences the fast path keeps) unrolled, and what cannot be exported refused.
    """
    import keras
    from keras import layers

    from har_demo.fastpath import Passthrough, fast_layer

    fast = fast_layer(layer)
    if fast is not layer:
        return None if isinstance(fast, Passthrough) else fast
    if isinstance(layer, (layers.MaxPooling3D, layers.AveragePooling3D)):
        raise ExportError(f"{layer.name}: only pooling with a time depth of 1 (channels_last) is exported")
    if isinstance(
        layer, (layers.LSTM, layers.GRU, layers.SimpleRNN, layers.ConvLSTM1D, layers.ConvLSTM2D, layers.ConvLSTM3D)
    ):
        if layer.stateful or layer.go_backwards or layer.return_state:
            raise ExportError(f"{layer.name}: stateful, backwards or state-returning recurrences are not exported")
        config = layer.get_config() | {"unroll": True, "dropout": 0.0, "recurrent_dropout": 0.0}
        if isinstance(layer, (layers.LSTM, layers.GRU)):
            config["use_cudnn"] = False
        return ("copy_weights", layer, type(layer).from_config(config))
    if isinstance(layer, keras.Model):
        raise ExportError(f"{layer.name}: nested models are not exported; flatten the model first")
    return layer  # Conv, Dense, Flatten, pooling, ...: the bundle's layer itself


def export_graph(model, batch_size: int = 1):
    """`model` rebuilt with fixed-length unrolled recurrences and a fixed batch size, same weights.

    Only plain chains (each layer fed by the one before), as both of the report's models are, and
    the pretrained kind (pretrained_export_graph).
    """
    import keras

    from har_demo.pretrained import is_pretrained

    if is_pretrained(model):
        return pretrained_export_graph(model, batch_size)

    chain = [l for l in model.layers if not isinstance(l, keras.layers.InputLayer)]
    if not isinstance(model, keras.Sequential):  # a Functional model must be a chain too
        previous = model.inputs[0]
        for layer in chain:
            if len(layer._inbound_nodes) != 1 or layer.input is not previous:
                raise ExportError(
                    f"{model.name}: layer {layer.name} is not fed by the layer before it; "
                    "only single-input chains are exported"
                )
            previous = layer.output
    inputs = keras.Input(batch_shape=(batch_size, *model.input_shape[1:]), name="frames")
    x = inputs
    for layer in chain:
        x = _apply_export_layer(layer, x)
    return keras.Model(inputs, x, name=f"{model.name}_export")


def _apply_export_layer(layer, x):
    """`layer`'s export replacement applied to x (a dropped layer passes x through)."""
    replacement = _export_layer(layer)
    if replacement is None:
        return x
    if isinstance(replacement, tuple):
        _, source, replacement = replacement
        x = replacement(x)
        replacement.set_weights(source.get_weights())
        return x
    return replacement(x)


def pretrained_export_graph(model, batch_size: int = 1):
    """The pretrained kind (har_demo.pretrained) for export, same weights: its input layers and the
    frozen encoder as they are (reshapes and plain convolutions, all TFLite builtins; the encoder is
    the one nested model exported), then the head as above (the LSTM unrolled; attention pooling's
    pooled output, its weights left out)."""
    import keras

    from har_demo.pretrained import EMBEDDINGS, AttentionPooling

    layers = [l for l in model.layers if not isinstance(l, keras.layers.InputLayer)]
    head = [l.name for l in layers].index(EMBEDDINGS) + 1
    inputs = keras.Input(batch_shape=(batch_size, *model.input_shape[1:]), name="frames")
    x = inputs
    for layer in layers[:head]:  # LiteInput, FramesToBatch, the encoder, BatchToFrames
        x = layer(x, training=False) if isinstance(layer, keras.Model) else layer(x)
    for layer in layers[head:]:
        x = layer(x)[0] if isinstance(layer, AttentionPooling) else _apply_export_layer(layer, x)
    return keras.Model(inputs, x, name=f"{model.name}_export")


def convert_to_tflite(model) -> bytes:
    """A Keras model -> TFLite flatbuffer with builtin ops only (through a SavedModel, as Keras does)."""
    import functools

    import keras
    import tensorflow as tf

    spec = tf.TensorSpec(model.input_shape, tf.float32, name="frames")
    with tempfile.TemporaryDirectory() as folder:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", functools.partial(model.__call__, training=False), input_signature=[spec])
        archive.write_out(folder, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        try:
            return converter.convert()
        except Exception as exc:  # ConverterError: name what was not builtin
            raise ExportError(f"{model.name} needs ops outside TFLite's builtins: {str(exc)[:2000]}") from exc


# ----------------------------------------------------------------------------- running


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        return Interpreter, OpResolverType, "ai-edge-litert"
    except ImportError:  # TensorFlow's own, deprecated but present
        import tensorflow as tf

        return tf.lite.Interpreter, tf.lite.experimental.OpResolverType, "tf.lite"


class TFLiteRunner:
    """One .tflite model in LiteRT's interpreter: float32 clips (N, T, H, W, 3) in, probabilities out."""

    def __init__(
        self, model: str | os.PathLike | bytes, num_threads: int | None = None, delegates: bool = True
    ) -> None:
        Interpreter, Resolver, self.runtime = _interpreter_class()
        source = (
            {"model_content": bytes(model)} if isinstance(model, (bytes, bytearray)) else {"model_path": str(model)}
        )
        resolver = Resolver.AUTO if delegates else Resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        self.interpreter = Interpreter(**source, num_threads=num_threads, experimental_op_resolver_type=resolver)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.input["shape"])

    def ops(self) -> list[str]:
        """The model's operators (create the runner with delegates=False, or XNNPACK hides them)."""
        return sorted({op["op_name"] for op in self.interpreter._get_ops_details()} - {"DELEGATE"})

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Clips one at a time (the model's batch is fixed at 1)."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == len(self.input_shape) - 1:
            x = x[None]
        outputs = []
        for clip in x:
            self.interpreter.set_tensor(self.input["index"], clip[None])
            self.interpreter.invoke()
            outputs.append(np.array(self.interpreter.get_tensor(self.output["index"])[0]))
        return np.stack(outputs)


def model_ops(content: bytes) -> list[str]:
    return TFLiteRunner(content, delegates=False).ops()


def time_per_clip(function, x: np.ndarray, repeats: int) -> float:
    """Median seconds of `function(x)` for one clip after one warm-up call."""
    function(x)
    times = []
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        function(x)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


# ----------------------------------------------------------------------------- bundles


def check_inputs(settings, clips: list[Path] | None = None, random_clips: int = 2) -> tuple[np.ndarray, list[str]]:
    """Model inputs to compare Keras and TFLite on: real clips (read as the bundle says) and noise."""
    from har_demo.clip import read_clip, to_model_input

    arrays, names = [], []
    for path in clips or []:
        arrays.append(to_model_input(read_clip(path, settings).frames, settings))
        names.append(Path(path).name)
    rng = np.random.default_rng(0)
    for i in range(random_clips):
        arrays.append(rng.random((settings.frames, settings.height, settings.width, 3), dtype=np.float32))
        names.append(f"uniform noise {i + 1}")
    return np.stack(arrays), names


def export_bundle(
    ref: str | Path,
    out: Path | None = None,
    fmt: str = "tflite",
    models: list[str] | None = None,
    clips: list[Path] | None = None,
    tolerance: float = TOLERANCE,
    repeats: int = 10,
    log=print,
) -> dict:
    """Export the bundle's models; return (and write to OUT/export.json) what was made and measured."""
    import keras

    from har_demo.backend import tensorflow_only
    from har_demo.bundle import file_sha256
    from har_demo.loader import load_bundle, resolve_bundle_path

    tensorflow_only("The TFLite export")
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    bundle = load_bundle(ref, models=models)
    if out is None:
        folder, _ = resolve_bundle_path(ref)
        if not Path(str(ref)).expanduser().is_dir():
            raise ExportError("a bundle from the Hub needs --out (its cache folder is not ours to write)")
        out = folder / fmt
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = bundle.settings
    x, names = check_inputs(settings, clips)
    _, _, runtime = _interpreter_class()
    document = {
        "format": fmt,
        "bundle": bundle.origin,
        "bundle_name": bundle.manifest.name,
        "classes": bundle.classes,
        "clip": settings.to_dict(),
        "input": {
            "name": "frames",
            "shape": [1, settings.frames, settings.height, settings.width, 3],
            "dtype": "float32",
            "note": "the bundle's clip settings, scaled as its `clip.scale` says",
        },
        "tolerance": {"max_abs_probability_difference": tolerance, "checked_on": names},
        "runtime": runtime,
        "versions": {"tensorflow": __import__("tensorflow").__version__, "keras": keras.__version__},
        "models": {},
    }
    for name, model in bundle.models.items():
        log(f"{name}: rebuilding with unrolled recurrences, batch 1")
        started = time.perf_counter()
        content = convert_to_tflite(export_graph(model))
        convert_seconds = time.perf_counter() - started
        runner = TFLiteRunner(content)
        expected = np.concatenate([np.asarray(model.predict_on_batch(clip[None])) for clip in x])
        got = runner.predict(x)
        error = float(np.max(np.abs(got - expected)))
        agree = bool(np.all(got.argmax(1) == expected.argmax(1)))
        if not error <= tolerance:
            raise ExportError(f"{name}: TFLite and Keras differ by {error:.3g} (> {tolerance:g}); nothing written")
        keras_seconds = time_per_clip(model.predict_on_batch, x[:1], repeats)
        tflite_seconds = time_per_clip(runner.predict, x[:1], repeats)
        latency = {"tflite": round(tflite_seconds * 1000, 2), "keras_predict_on_batch": round(keras_seconds * 1000, 2)}
        try:  # what the app serves: the same weights in a rebuilt, XLA-compiled graph
            from har_demo.fastpath import inference_model

            fast = inference_model(model)
            latency["keras_app_inference_model"] = round(time_per_clip(fast.predict_on_batch, x[:1], repeats) * 1000, 2)
        except Exception:  # a timing extra; never a reason to fail the export
            pass
        path = out / f"{name}.{fmt}"
        path.write_bytes(content)
        keras_file = bundle.path / bundle.manifest.models[name].file
        document["models"][name] = {
            "file": path.name,
            "bytes": len(content),
            "sha256": file_sha256(path),
            "keras_bytes": keras_file.stat().st_size,
            "params": int(model.count_params()),
            "ops": model_ops(content),
            "max_abs_difference": error,
            "same_top_class": agree,
            "latency_ms_per_clip": latency,
            "convert_seconds": round(convert_seconds, 1),
        }
        log(
            f"{name}: {path} ({len(content) / 1e3:.0f} kB), max |TFLite - Keras| = {error:.2g}, "
            f"{tflite_seconds * 1000:.1f} ms/clip TFLite vs {keras_seconds * 1000:.1f} ms Keras"
        )
    (out / EXPORT_MANIFEST).write_text(json.dumps(document, indent=1) + "\n")
    log(f"Wrote {out / EXPORT_MANIFEST}")
    return document


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", required=True, help="bundle folder or OWNER/NAME[@REV]")
    parser.add_argument("--format", default="tflite", choices=FORMATS)
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: BUNDLE/tflite)")
    parser.add_argument("--models", default=None, help="comma list (default: every model in the bundle)")
    parser.add_argument(
        "--check",
        type=Path,
        nargs="*",
        default=[],
        help="video clips to compare TFLite and Keras on (plus two noise clips)",
    )
    parser.add_argument("--tolerance", type=float, default=TOLERANCE, help="max abs probability difference")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per model for the latency")


def run(args: argparse.Namespace) -> int:
    from har_demo.backend import BackendError
    from har_demo.bundle import BundleError

    models = [m.strip() for m in args.models.split(",")] if args.models else None
    try:
        export_bundle(args.bundle, args.out, args.format, models, args.check, args.tolerance, args.repeats)
    except (BackendError, BundleError, ExportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
