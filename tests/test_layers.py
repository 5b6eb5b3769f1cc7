"""The layers point down: the core library imports neither the training package nor gradio, the
Train tab's actions import no gradio (only its layout does), and no two modules anywhere in the
tree import each other (docs/architecture.md draws the map)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO

PACKAGE = REPO / "har_demo"
# Every importable tree of the checkout: training/ installs as har_demo.training (see pyproject.toml).
TREES = {"har_demo": PACKAGE, "har_demo.training": REPO / "training", "benchmarks": REPO / "benchmarks"}
CORE = sorted(
    f"har_demo.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__", "cli", "predict_cli")
)

# argv: the comma-separated packages made unimportable, then the modules to import
BLOCKER = """
import importlib.abc, sys
BLOCKED = tuple(sys.argv[1].split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ImportError(f"{sys.argv[2:]} imported {name}")
sys.meta_path.insert(0, Block())
import importlib
for name in sys.argv[2:]:
    importlib.import_module(name)
print("ok", len(sys.argv) - 2)
"""


def import_blocking(blocked: tuple[str, ...], modules: list[str]) -> subprocess.CompletedProcess:
    """Import `modules` in a fresh interpreter where the `blocked` packages cannot be imported."""
    args = [sys.executable, "-c", BLOCKER, ",".join(blocked), *modules]
    return subprocess.run(args, capture_output=True, text=True, cwd=REPO)


def test_core_modules_import_without_training_gradio_or_the_app():
    assert "har_demo.clip" in CORE and "har_demo.bundle" in CORE
    result = import_blocking(("gradio", "har_demo.training", "har_demo.app", "benchmarks"), CORE)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == f"ok {len(CORE)}"


STUDIO_ACTIONS = ["har_demo.app.studio_actions", "har_demo.app.studio_training"]


def test_the_train_tabs_actions_import_without_gradio():
    """Plain functions, testable without a page: only studio_tab.py turns their values into gr.update."""
    result = import_blocking(("gradio",), STUDIO_ACTIONS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == f"ok {len(STUDIO_ACTIONS)}"
    tab = import_blocking(("gradio",), ["har_demo.app.studio_tab"])  # the check can fail: the layout needs gradio
    assert tab.returncode != 0 and "imported gradio" in tab.stderr, tab.stderr[-3000:]


ABOVE_THE_CORE = ("har_demo.app", "har_demo.studio", "har_demo.training", "benchmarks", "gradio")


def test_core_modules_never_import_the_layers_above_even_inside_a_function():
    """Importing a module runs only its top-level imports; a function's own import of the app
    surfaces only when it runs, so every import statement of the core is read here."""
    offenders = {
        p.name: sorted(m for m in _imports(p, everything=True) if m.startswith(ABOVE_THE_CORE))
        for p in PACKAGE.glob("*.py")
        if p.stem not in ("__init__", "__main__")
    }
    assert "timeline_cli.py" in offenders and "clip.py" in offenders
    offenders = {name: found for name, found in offenders.items() if found}
    assert not offenders, f"core modules importing the app, studio, training or gradio: {offenders}"


def _imports(path: Path, everything: bool = False) -> set[str]:
    """Every module of ours (with `everything`, every module) `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(n for n in names if everything or n.startswith(("har_demo", "benchmarks")))
    return found


def _module_name(path: Path, package: str, root: Path) -> str:
    parts = (*package.split("."), *path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_cycles_in_the_tree():
    modules = {_module_name(p, package, root): p for package, root in TREES.items() for p in root.rglob("*.py")}
    assert "har_demo.training.run" in modules and "benchmarks.bench" in modules
    graph = {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}
    cycles = [c for c in _cycles(graph) if not _is_package_reexport(c)]
    assert not cycles, f"modules that import each other: {cycles}"


def _is_package_reexport(cycle: list[str]) -> bool:
    """A package's __init__ importing its own submodules is not a cycle worth reporting."""
    return any(b.startswith(a + ".") or a.startswith(b + ".") for a, b in zip(cycle, cycle[1:] + cycle[:1]))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of modules (depth-first search)."""
    found, done = [], set()

    def visit(node: str, trail: list[str]) -> None:
        if node in trail:
            found.append(trail[trail.index(node) :])
            return
        if node in done:
            return
        for dep in sorted(graph[node]):
            visit(dep, trail + [node])
        done.add(node)

    for name in sorted(graph):
        visit(name, [])
    return found
