"""The synthetic generator's actor boxes: same frames as render_clip, boxes around what moves."""

from __future__ import annotations

import numpy as np
import pytest

from har_demo.names import REPORT_CLASSES
from har_demo.training import synth


@pytest.mark.parametrize("nuisance", [True, False])
def test_boxes_do_not_change_the_frames(nuisance: bool) -> None:
    plain = synth.render_clip("TaiChi", np.random.default_rng(5), seconds=0.4, nuisance=nuisance)
    frames, boxes = synth.render_clip_with_boxes("TaiChi", np.random.default_rng(5), seconds=0.4, nuisance=nuisance)
    np.testing.assert_array_equal(frames, plain)
    assert boxes.shape == (len(frames), 4)


@pytest.mark.parametrize("class_name", REPORT_CLASSES)
def test_boxes_cover_what_moves(class_name: str) -> None:
    """Without nuisance only the actors change between frames: every change lies in the two frames' boxes."""
    rng = np.random.default_rng([11, REPORT_CLASSES.index(class_name)])
    frames, boxes = synth.render_clip_with_boxes(class_name, rng, seconds=0.6, nuisance=False)
    visible = boxes[:, 0] >= 0
    assert visible.mean() > 0.9, "the actor is in view in almost every frame"
    for t in range(len(frames) - 1):
        changed = np.any(frames[t] != frames[t + 1], axis=-1)
        inside = np.zeros_like(changed)
        for x0, y0, x1, y1 in boxes[t : t + 2]:
            if x0 >= 0:
                assert 0 <= x0 < x1 <= synth.WIDTH and 0 <= y0 < y1 <= synth.HEIGHT
                inside[y0:y1, x0:x1] = True
        assert changed.any() and not changed[~inside].any(), "every pixel that moved is inside a box"
        assert inside.mean() < 0.9
