"""Packages found, not listed by hand (a package missing from a hand-made list is silently absent
from the wheel: it was `har_demo.studio`).

Everything else is in pyproject.toml. The packages are `har_demo` and every package under it,
plus each `[tool.setuptools.package-dir]` mapping and the packages inside its folder, so a folder
mapped there (the shipped weights, a top-level `training/` as `har_demo.training`) ships too.
"""

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.config.pyprojecttoml import read_configuration

HERE = Path(__file__).parent


def found_packages() -> list[str]:
    mapped = read_configuration(HERE / "pyproject.toml", expand=False)["tool"]["setuptools"].get("package-dir", {})
    packages = set(find_packages(where=str(HERE), include=["har_demo", "har_demo.*"]))
    for name, folder in mapped.items():
        if name:
            packages.add(name)
            packages.update(f"{name}.{sub}" for sub in find_packages(where=str(HERE / folder)))
    return sorted(packages)


setup(packages=found_packages())
