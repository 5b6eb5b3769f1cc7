"""docs/timeline.md's hmmlearn example runs: it fits two HMMs over the shipped mixed example's
timeline (the shipped bundle) and prints the decoded activities, the four of them in order."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.paths import REPO

ORDER = ["WalkingWithDog", "TaiChi", "Swing", "HorseRace"]  # the example's sidecar


def test_the_hmmlearn_example_decodes_the_mixed_example():
    result = subprocess.run(
        [sys.executable, str(REPO / "docs" / "timeline_hmm.py")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("13 windows, classes WalkingWithDog, TaiChi, Swing, HorseRace; true: WalkingWithDog 0-")
    decoded = {lines[i]: lines[i + 1].strip() for i, line in enumerate(lines[:-1]) if "HMM" in line}
    assert len(decoded) == 3  # CategoricalHMM for each model, GaussianHMM for both
    for title, sequence in decoded.items():
        labels = re.findall(r"([A-Za-z]+) [\d.]+-[\d.]+ s", sequence)
        assert labels == ORDER, (title, sequence)
        right = int(re.search(r"\((\d+)% of windows right\)", title).group(1))
        assert right >= 60, title
