"""Draw docs/architecture.svg: the imports between CivicDesk's top-level packages, one row per layer of
.importlinter's layers contract (the highest on top: civicdesk/, the composition root; the lowest:
kernel/, the shared kernel), so that an arrow pointing up is an import against the layering.

    .venv/bin/python scripts/import_graph.py            # writes docs/architecture.svg
    .venv/bin/python scripts/import_graph.py --text     # the arrows as text, upward ones marked

It reads the code with grimp (import-linter's graph), so it sees the same imports the contracts check,
including those inside functions. No Graphviz needed: the layout is the layers, drawn by hand below."""

from __future__ import annotations

import argparse
import configparser
from collections import Counter
from pathlib import Path
from xml.sax.saxutils import escape

import grimp

ROOT = Path(__file__).resolve().parent.parent
WIDTH, ROW, BOX_H, MARGIN = 1000, 78, 34, 24
ROOT_AND_KERNEL = ("civicdesk", "kernel")  # drawn in another colour: the top and the floor


def layers_and_packages() -> tuple[list[list[str]], list[str]]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    packages = config["importlinter"]["root_packages"].split()
    raw = config["importlinter:contract:domain-layers"]["layers"]
    lines = [line for line in raw.split("\n") if line.strip() and not line.strip().startswith(";")]
    rows = [[part.strip() for part in line.replace(":", "|").split("|")] for line in lines]
    return rows, packages


def group_of(module: str) -> str:
    return module.split(".")[0]


def edges(graph: grimp.ImportGraph, packages: list[str]) -> Counter[tuple[str, str]]:
    """(importer package, imported package) -> number of module-to-module imports."""
    counts: Counter[tuple[str, str]] = Counter()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            pair = (group_of(importer), group_of(imported))
            if pair[0] != pair[1] and pair[1] in packages:
                counts[pair] += 1
    return counts


def positions(rows: list[list[str]]) -> dict[str, tuple[float, float]]:
    """Each row's boxes spread evenly; lone boxes in the middle rows zigzag, so arrows that skip a layer
    do not run behind the boxes between."""
    where = {}
    for r, row in enumerate(rows):
        step = (WIDTH - 2 * MARGIN) / len(row)
        zigzag = 150 * (1 if r % 2 else -1) if len(row) == 1 and 0 < r < len(rows) - 1 else 0
        for i, name in enumerate(row):
            where[name] = (MARGIN + step * (i + 0.5) + zigzag, MARGIN + r * ROW + BOX_H / 2)
    return where


def svg(rows: list[list[str]], counts: Counter[tuple[str, str]]) -> str:
    where = positions(rows)
    rank = {name: r for r, row in enumerate(rows) for name in row}
    height = MARGIN * 2 + ROW * (len(rows) - 1) + BOX_H + 56
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="13">',
        "<defs>",
        *(
            f'<marker id="{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
            for name, colour in (("down", "#7a8793"), ("up", "#c0392b"), ("side", "#d68910"))
        ),
        "</defs>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    for (a, b), n in sorted(counts.items(), key=lambda item: rank[item[0][0]] < rank[item[0][1]]):
        (x1, y1), (x2, y2) = where[a], where[b]
        kind = "down" if rank[a] < rank[b] else "up" if rank[a] > rank[b] else "side"
        colour = {"down": "#7a8793", "up": "#c0392b", "side": "#d68910"}[kind]
        # start and end on the boxes' top or bottom edges; bend upward arrows so they stand apart
        y1 += BOX_H / 2 if kind == "down" else -BOX_H / 2 if kind == "up" else 0
        y2 += -BOX_H / 2 if kind == "down" else BOX_H / 2 if kind == "up" else 0
        width = 1 + min(n, 40) / 10
        dash = ' stroke-dasharray="6 4"' if kind != "down" else ""
        bend = 60 if kind != "down" else 0
        mx, my = (x1 + x2) / 2 + bend, (y1 + y2) / 2 - (30 if kind == "side" else 0)
        out.append(
            f'<path d="M{x1:.0f},{y1:.0f} Q{mx:.0f},{my:.0f} {x2:.0f},{y2:.0f}" fill="none" '
            f'stroke="{colour}" stroke-width="{width:.1f}" opacity="0.75"{dash} marker-end="url(#{kind})">'
            f"<title>{escape(a)} → {escape(b)}: {n} imports</title></path>"
        )
    for name, (x, y) in where.items():
        w = max(90, 8 * len(name) + 20)
        fill = "#eaf2f8" if name not in ROOT_AND_KERNEL else "#f4ecf7"
        out.append(
            f'<rect x="{x - w / 2:.0f}" y="{y - BOX_H / 2:.0f}" width="{w}" height="{BOX_H}" rx="6" '
            f'fill="{fill}" stroke="#34495e"/>'
            f'<text x="{x:.0f}" y="{y + 5:.0f}" text-anchor="middle">{escape(name)}</text>'
        )
    out.append(
        f'<text x="{MARGIN}" y="{height - 30}" fill="#34495e">grey: an import downward (allowed); red, '
        "dashed: an import upward, against the layers (a known debt, docs/architecture.md);</text>"
        f'<text x="{MARGIN}" y="{height - 12}" fill="#34495e">orange: between siblings of one layer. '
        "Thickness: the number of module-to-module imports (hover an arrow for it).</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", action="store_true", help="print the arrows instead of drawing them")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "architecture.svg")
    args = parser.parse_args()
    rows, packages = layers_and_packages()
    graph = grimp.build_graph(*packages, cache_dir=None)
    counts = edges(graph, packages)
    if args.text:
        rank = {name: r for r, row in enumerate(rows) for name in row}
        for (a, b), n in sorted(counts.items()):
            mark = "UP  " if rank[a] > rank[b] else "side" if rank[a] == rank[b] else "    "
            print(f"{mark} {a} -> {b}: {n}")
        return
    args.out.write_text(svg(rows, counts), encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
