"""The students' panel: plain words whose numbers come from the served models."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_students_text_uses_the_models_numbers() -> None:
    from har_demo.app.students_panel import students_markdown
    from har_demo.models import build_model, layer_table
    from har_demo.names import REPORT_CLASSES

    tables = {name: layer_table(build_model(name, 4)) for name in ("convlstm", "lrcn")}
    text = students_markdown(tables, 20, 64, 64, list(REPORT_CLASSES))
    assert "20 frames" in text and "64×64 pixels" in text
    assert "44,524" in text and "73,060" in text  # the report's parameter counts
    assert "62×62 → 29×29 → 13×13 → 5×5" in text and "64×64 → 16×16 → 4×4 → 2×2" in text
    assert "sure*, not *right*" in text
