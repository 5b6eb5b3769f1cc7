"""The two models are exactly the report's: parameter counts and the figures' output shapes."""

from __future__ import annotations

import pytest

from har_demo.models import build_model, layer_table

CONVLSTM_SHAPES = [
    [None, 20, 62, 62, 4],
    [None, 20, 31, 31, 4],
    [None, 20, 31, 31, 4],
    [None, 20, 29, 29, 8],
    [None, 20, 15, 15, 8],
    [None, 20, 15, 15, 8],
    [None, 20, 13, 13, 14],
    [None, 20, 7, 7, 14],
    [None, 20, 7, 7, 14],
    [None, 20, 5, 5, 16],
    [None, 20, 3, 3, 16],
    [None, 2880],
    [None, 4],
]
LRCN_SHAPES = [
    [None, 20, 64, 64, 16],
    [None, 20, 16, 16, 16],
    [None, 20, 16, 16, 16],
    [None, 20, 16, 16, 32],
    [None, 20, 4, 4, 32],
    [None, 20, 4, 4, 32],
    [None, 20, 4, 4, 64],
    [None, 20, 2, 2, 64],
    [None, 20, 2, 2, 64],
    [None, 20, 2, 2, 64],
    [None, 20, 1, 1, 64],
    [None, 20, 64],
    [None, 32],
    [None, 4],
]


@pytest.mark.parametrize("name, params, shapes", [("convlstm", 44_524, CONVLSTM_SHAPES), ("lrcn", 73_060, LRCN_SHAPES)])
def test_report_architecture(name, params, shapes):
    model = build_model(name, 4)
    assert model.count_params() == params
    assert [row["output_shape"] for row in layer_table(model)] == shapes


def test_other_class_counts_and_clip_sizes_build():
    model = build_model("lrcn", 50, frames=30, height=96, width=96)
    assert model.input_shape == (None, 30, 96, 96, 3) and model.output_shape == (None, 50)
    assert build_model("convlstm", 50).output_shape == (None, 50)
    with pytest.raises(ValueError, match="unknown model"):
        build_model("resnet", 4)


def test_summary_cli_prints_the_report_counts():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "har_demo", "summary"], capture_output=True, text=True, check=True)
    assert "convlstm: 44,524 parameters" in out.stdout and "lrcn: 73,060 parameters" in out.stdout
