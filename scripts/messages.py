"""Keep the gettext catalogues in kernel/locale/ up to date.

    python scripts/messages.py extract               # `make messages`: .pot from code, then update vi/en .po
    python scripts/messages.py from-dicts            # move MESSAGES dict entries into the .po files
    python scripts/messages.py from-dicts --from-ref BRANCH   # at merge: what BRANCH added to its dicts

The templates' short keys (``t("home_title")``) are msgids too. A key is also used from Python under
a computed name (``t("st_" + status)``), which extraction cannot see, so every key already in vi.po
stays in the .pot, with the Vietnamese text as its extracted comment for translators.

``from-dicts`` reads the ``{"key": {"vi": …, "en": …}}`` entries of the dicts in DICT_FILES (with
``ast``, never importing them), writes them into vi.po and en.po (a dict entry wins over the catalogue:
it is the newer text) and empties the dicts. With ``--from-ref`` it reads the dicts as they are in that
git ref and takes only the entries added or changed there since the merge base, leaving the working
files' dicts alone: resolve a conflict in web/i18n*.py by keeping this branch's side, then run it.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kernel.i18n import LANGUAGES, po_path  # noqa: E402

POT = ROOT / "kernel" / "locale" / "messages.pot"
DICT_FILES = {"web/i18n.py": "MESSAGES", "web/i18n_staff.py": "STAFF_MESSAGES"}
PACKAGES = (
    "civicdesk",
    "kernel",
    "tickets",
    "telephony",
    "channels",
    "routing",
    "nlp",
    "web",
    "sla",
    "open311",
    "ioc",
    "notifications",
    "incidents",
    "geo",
)
METHODS = [
    *((f"{package}/**.py", "python") for package in PACKAGES),
    ("web/templates/**.html", "jinja2"),
    ("web/static/*.js", "javascript"),
]
OPTIONS = {"web/static/*.js": {"parse_template_string": True}}  # t("…") inside `${…}` too
KEYWORDS = {"_": None, "t": None}
KEY = re.compile(r"^[a-z][a-z0-9_-]*$")  # "sort_-due": a key may hold the sort's minus
WIDTH = 110


def is_key(msgid: str) -> bool:
    return bool(KEY.match(msgid))


def _read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=language)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as po:
        write_po(po, catalog, width=WIDTH, include_previous=False, include_lineno=False)


def _empty_catalog(language: str | None = None) -> Catalog:
    return Catalog(
        locale=language, project="CivicDesk", copyright_holder="CivicDesk", msgid_bugs_address="", fuzzy=False
    )


def template() -> Catalog:
    """The .pot: what the code asks for, plus every key the Vietnamese catalogue holds."""
    pot = _empty_catalog()
    if POT.exists():  # a date that changes on every run would only make merge conflicts
        pot.creation_date = _read(POT).creation_date
    for filename, lineno, message, comments, _context in extract_from_dir(
        str(ROOT), METHODS, OPTIONS, KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True
    ):
        # t("st_" + status) shows extraction only the prefix: no message of its own
        if isinstance(message, str) and message and not message.endswith("_"):
            pot.add(message, locations=[(filename, lineno)], auto_comments=comments)
    vi = _read(po_path("vi"), "vi") if po_path("vi").exists() else _empty_catalog("vi")
    for entry in vi:
        if entry.id and isinstance(entry.id, str) and is_key(entry.id) and not entry.id.endswith("_"):
            known = pot.get(entry.id)
            comment = f"vi: {entry.string}"
            if known is None:
                pot.add(entry.id, auto_comments=[comment])
            elif comment not in known.auto_comments:
                known.auto_comments.append(comment)
    return pot


def extract() -> None:
    pot = template()
    _write(POT, pot)
    for language in LANGUAGES:
        path = po_path(language)
        catalog = _read(path, language) if path.exists() else _empty_catalog(language)
        catalog.update(pot, no_fuzzy_matching=True)
        catalog.obsolete.clear()  # git keeps the history; dead entries only confuse translators
        _write(path, catalog)
    print(f"{len(pot)} messages → {POT.relative_to(ROOT)} and {', '.join(LANGUAGES)}")


# --- moving the dict entries ---------------------------------------------------------------------


def _dict_node(source: str, name: str) -> ast.Dict | None:
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == name and isinstance(value, ast.Dict):
            return value
    return None


def dict_entries(source: str, name: str) -> dict[str, dict[str, str]]:
    node = _dict_node(source, name)
    return {} if node is None else dict(ast.literal_eval(node))


def write_entries(entries: dict[str, dict[str, str]]) -> list[str]:
    """Put each entry into vi.po and en.po; answer the keys that were new or changed."""
    touched = []
    catalogs = {
        language: _read(po_path(language), language)
        if po_path(language).exists()
        else _empty_catalog(language)
        for language in LANGUAGES
    }
    for key, texts in entries.items():
        changed = False
        for language, catalog in catalogs.items():
            text = texts.get(language) or texts["vi"]
            known = catalog.get(key)
            if known is None:
                catalog.add(key, text)
                changed = True
            elif known.string != text:
                known.string, changed = text, True
                if "fuzzy" in known.flags:
                    known.flags.discard("fuzzy")
        if changed:
            touched.append(key)
    for language, catalog in catalogs.items():
        _write(po_path(language), catalog)
    return touched


def empty_dict(path: Path, name: str) -> None:
    source = path.read_text(encoding="utf-8")
    node = _dict_node(source, name)
    if node is None or not node.keys:
        return
    lines = source.splitlines(keepends=True)
    start, end = node.lineno - 1, (node.end_lineno or node.lineno) - 1
    head = lines[start][: node.col_offset]
    tail = lines[end][node.end_col_offset :]
    path.write_text("".join(lines[:start]) + head + "{}" + tail + "".join(lines[end + 1 :]), encoding="utf-8")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout  # noqa: S603, S607


def _merging() -> bool:
    verify = ["git", "rev-parse", "-q", "--verify", "MERGE_HEAD"]
    found = subprocess.run(verify, cwd=ROOT, capture_output=True)  # noqa: S603, S607
    return found.returncode == 0


def _at(ref: str, path: str) -> str:
    try:
        return _git("show", f"{ref}:{path}")
    except subprocess.CalledProcessError:
        return ""


def entries_from_ref(ref: str) -> dict[str, dict[str, str]]:
    # during the merge HEAD is the other branch itself; the catalogues' side is then MERGE_HEAD
    ours = "MERGE_HEAD" if _merging() else "HEAD"
    base = _git("merge-base", ours, ref).strip()
    wanted: dict[str, dict[str, str]] = {}
    for path, name in DICT_FILES.items():
        before = dict_entries(_at(base, path), name)
        after = dict_entries(_at(ref, path), name)
        wanted.update({key: texts for key, texts in after.items() if before.get(key) != texts})
    return wanted


def from_dicts(ref: str | None) -> None:
    if ref:
        entries = entries_from_ref(ref)
    else:
        entries = {}
        for path, name in DICT_FILES.items():
            entries.update(dict_entries((ROOT / path).read_text(encoding="utf-8"), name))
    touched = write_entries(entries)
    if not ref:
        for path, name in DICT_FILES.items():
            empty_dict(ROOT / path, name)
    extract()
    print(f"{len(entries)} dict entries read, {len(touched)} new or changed in the catalogues")
    _show(touched)


def _show(keys: Iterable[str]) -> None:
    for key in keys:
        print(f"  {key}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("extract", help="refresh messages.pot and update the vi and en catalogues")
    moving = commands.add_parser("from-dicts", help="move MESSAGES dict entries into the catalogues")
    moving.add_argument("--from-ref", help="take the entries a git ref added or changed since the merge base")
    arguments = parser.parse_args()
    if arguments.command == "extract":
        extract()
    else:
        from_dicts(arguments.from_ref)


if __name__ == "__main__":
    main()
