"""The honest verdict: agreement, how sure each model is, the threshold, and top five + others."""

from __future__ import annotations

import numpy as np
import pytest

from har_demo.names import REPORT_CLASSES
from har_demo.verdict import OTHERS, bar_data, check_threshold, judge

CLASSES = list(REPORT_CLASSES)


def probs(top: str, p: float) -> np.ndarray:
    rest = (1 - p) / (len(CLASSES) - 1)
    return np.array([p if c == top else rest for c in CLASSES], np.float32)


def test_agree_one_sure_one_unsure_reads_like_the_issue() -> None:
    v = judge(CLASSES, {"lrcn": probs("TaiChi", 0.95), "convlstm": probs("TaiChi", 0.45)}, threshold=0.7)
    assert v.headline == "Both models say TaiChi, LRCN sure, ConvLSTM unsure"
    assert v.agree is True
    assert "ConvLSTM is not sure" in v.lines[1] and "none of its 4 activities" in v.lines[1]


def test_the_threshold_changes_the_verdict() -> None:
    outputs = {"convlstm": probs("HorseRace", 0.8), "lrcn": probs("HorseRace", 0.9)}
    assert judge(CLASSES, outputs, threshold=0.5).headline == "Both models say HorseRace, both sure"
    low = judge(CLASSES, outputs, threshold=0.95)
    assert low.headline.startswith("Both models lean to HorseRace, but neither is sure")
    assert [r.sure for r in low.readings] == [False, False]
    mid = judge(CLASSES, outputs, threshold=0.85)
    assert mid.headline == "Both models say HorseRace, ConvLSTM unsure, LRCN sure"


def test_disagreement_is_never_a_tick() -> None:
    v = judge(CLASSES, {"convlstm": probs("Swing", 0.99), "lrcn": probs("TaiChi", 0.3)})
    assert v.agree is False
    assert v.headline == "The models disagree: ConvLSTM says Swing (sure), LRCN says TaiChi (unsure)"
    assert "✓" not in v.markdown()
    both_unsure = judge(CLASSES, {"convlstm": probs("Swing", 0.4), "lrcn": probs("TaiChi", 0.3)})
    assert both_unsure.headline.startswith("The models disagree and neither is sure")


def test_one_model() -> None:
    assert judge(CLASSES, {"lrcn": probs("Swing", 0.9)}).headline == "LRCN says Swing, sure"
    assert judge(CLASSES, {"lrcn": probs("Swing", 0.3)}).headline == "LRCN is not sure: maybe none of its 4 activities"


@pytest.mark.parametrize("bad", [-0.1, 1.5, "high", None, float("nan")])
def test_bad_threshold_is_a_value_error(bad) -> None:
    with pytest.raises(ValueError):
        check_threshold(bad)
    with pytest.raises(ValueError):
        judge(CLASSES, {"lrcn": probs("Swing", 0.9)}, threshold=bad)


def test_wrong_number_of_probabilities() -> None:
    with pytest.raises(ValueError, match="LRCN gave 3 probabilities for 4 classes"):
        judge(CLASSES, {"lrcn": np.ones(3) / 3})


def test_more_than_five_classes_fold_into_others() -> None:
    classes = [f"class{i}" for i in range(9)]
    p = np.array([0.02, 0.3, 0.05, 0.01, 0.2, 0.1, 0.12, 0.15, 0.05])
    (bars,) = bar_data(classes, {"lrcn": p})
    assert bars.labels == ("class1", "class4", "class7", "class6", "class5", OTHERS)
    assert bars.folded == 4
    assert bars.values[-1] == pytest.approx(0.02 + 0.05 + 0.01 + 0.05)
    assert sum(bars.values) == pytest.approx(1.0)
    (four,) = bar_data(CLASSES, {"lrcn": probs("Swing", 0.9)})
    assert four.labels == tuple(CLASSES) and four.folded == 0
