"""The app as a real process: `python app.py` with a malformed bundle, then SIGTERM.

Checks the way a host sees them: the app starts on the shipped weights
with a notice instead of crash-looping, removes temp folders that killed apps left behind (and
nothing else), and removes its own temp folder when it gets SIGTERM.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.paths import REPO


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 400) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"the app did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_malformed_bundle_falls_back_and_sigterm_removes_the_temp_files(imported_bundle, tmp_path):
    from tests.helpers import free_port

    broken = tmp_path / "broken-bundle"
    shutil.copytree(imported_bundle, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    (broken / "manifest.json").write_text(json.dumps({**manifest, "format_version": "one"}))
    temp = tmp_path / "tmp"
    temp.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = temp / f"har-demo-{int(dead.stdout)}-left"  # what a killed app leaves behind
    stale.mkdir()
    (stale / ".har-demo-owner").write_text(json.dumps({"pid": int(dead.stdout), "started": "1"}))
    foreign = temp / "har-demo-someone-else"  # not the app's: must stay
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")

    port = free_port()
    log = tmp_path / "app.log"
    env = os.environ | {
        "TMPDIR": str(temp),
        "GRADIO_TEMP_DIR": str(tmp_path / "gradio"),
        "GRADIO_EXAMPLES_CACHE": str(tmp_path / "examples-cache"),
        "HAR_DEMO_BUNDLE": "",
    }
    process = subprocess.Popen(
        [sys.executable, str(REPO / "app.py"), "--bundle", str(broken), "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url, process, log)
        with urllib.request.urlopen(url + "config", timeout=10) as answer:
            config = answer.read().decode()
        assert "Could not load the bundle" in config and "Showing the shipped bundle" in config
        assert "broken-bundle" in config
        ours = [p for p in temp.glob(f"har-demo-{process.pid}-*")]
        assert len(ours) == 1 and ours[0].is_dir()
        assert not stale.exists() and (foreign / "notes.txt").read_text() == "keep me"

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not ours[0].exists(), log.read_text()[-2000:]
    assert (foreign / "notes.txt").read_text() == "keep me"
