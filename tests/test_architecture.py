"""The import graph behind docs/architecture.svg (scripts/import_graph.py) has no arrow pointing up: every
import between the top-level packages — the composition root civicdesk/, web, the flows, the domains and
the kernel — goes down a layer or across one row, so the picture the doc shows stays true after a change."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import grimp

ROOT = Path(__file__).resolve().parent.parent


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_points_up_the_layers() -> None:
    script = _script()
    rows, packages = script.layers_and_packages()
    rank = {name: r for r, row in enumerate(rows) for name in row}
    counts = script.edges(grimp.build_graph(*packages, cache_dir=None), packages)
    upward = sorted(f"{a} -> {b}" for (a, b) in counts if rank[a] > rank[b])
    assert upward == []
    # every drawn group is a box of the picture, and the picture names each of them
    drawn = (ROOT / "docs" / "architecture.svg").read_text(encoding="utf-8")
    assert {name for pair in counts for name in pair} <= set(rank)
    assert all(f">{name}</text>" in drawn for name in rank)
