"""The wheel, as someone who runs `pip install .` gets it.

Every other test runs from the checkout, so a package missing from the wheel (it was
`har_demo.studio`) went unnoticed: here the wheel is built, its folders are compared with the
checkout's packages, and it is installed in a fresh virtual environment whose `har-demo app`,
started from another folder, must answer /config.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.paths import REPO


def checkout_packages() -> set[str]:
    """Every folder of har_demo/ holding an __init__.py, as a path inside the wheel."""
    return {str(init.parent.relative_to(REPO)) for init in (REPO / "har_demo").rglob("__init__.py")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(REPO)],
        check=True,
        cwd=out,
        timeout=300,
    )
    (built,) = out.glob("har_demo-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_holds_every_package_and_the_shipped_bundle(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    folders = {name.rsplit("/", 1)[0] for name in names if "/" in name}
    missing = sorted(checkout_packages() - folders)
    assert not missing, f"packages of the checkout absent from the wheel: {missing}"
    for package in checkout_packages():
        assert f"{package}/__init__.py" in names
    assert "har_demo/_shipped/weights/manifest.json" in names
    assert any(n.startswith("har_demo/_shipped/weights/") and n.endswith(".keras") for n in names)
    assert any(n.startswith("har_demo/_shipped/examples/") for n in names)


@pytest.mark.slow
def test_the_installed_wheel_serves_the_page_from_another_folder(wheel, tmp_path):
    venv = tmp_path / "venv"
    # The system's site-packages give TensorFlow and gradio (no reinstall); har_demo itself must
    # come from the wheel, which the venv's own site-packages put first on sys.path.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
        check=True,
        timeout=300,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HAR_DEMO_BUNDLE")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import har_demo.studio, har_demo.app; print(har_demo.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert where.returncode == 0, where.stderr[-2000:]
    assert str(venv) in where.stdout, f"har_demo came from {where.stdout.strip()}, not from the wheel"

    from tests.helpers import free_port

    port = free_port()
    log = tmp_path / "app.log"
    with log.open("w") as sink:
        app = subprocess.Popen(
            [str(venv / "bin" / "har-demo"), "app", "--port", str(port)],
            cwd=elsewhere,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 400
        while True:
            assert app.poll() is None, f"har-demo app exited with {app.returncode}:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no answer on /config:\n{log.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(1)
    finally:
        app.terminate()
        app.wait(timeout=60)
