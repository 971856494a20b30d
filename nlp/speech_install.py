"""Installing a Vosk speech model: from its publisher's address or from a zip the operator brought.

Every install is checked against a SHA-256 before anything is unpacked: the one recorded below for a
known model, or the one the operator gives. The zip is unpacked member by member into a staging folder
beside the destination (no absolute paths, no `..`, no links, a bound on the unpacked size), the result
must have a Vosk model's layout and load in Vosk, and only then does it replace what was installed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import httpx

from kernel.timeutil import utcnow

Progress = Callable[[str], None]

MARKER = "civicdesk-model.json"  # what was installed, from where, with which checksum
MAX_UNPACKED_BYTES = 8 * 1024**3  # the largest Vosk models unpack to about 4 GB; a zip bomb stops here
CHUNK = 1024 * 1024
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ModelSource:
    """A model a city may install, as its publisher lists it."""

    name: str
    language: str
    url: str
    size: str  # as the publisher's list gives it
    licence: str
    # None when it could not be computed from the published file when this was written: then the
    # operator must give --sha256 (from a source they trust), and nothing is installed without it
    sha256: str | None
    notes: str = ""


VIETNAMESE_SMALL = ModelSource(
    name="vosk-model-small-vn-0.4",
    language="vi",
    url="https://alphacephei.com/vosk/models/vosk-model-small-vn-0.4.zip",
    size="32 MB",
    licence="Apache-2.0",
    sha256=None,
    notes="Vosk's small Vietnamese model (16 kHz; telephone audio is resampled to it)",
)
CATALOGUE: dict[str, ModelSource] = {VIETNAMESE_SMALL.name: VIETNAMESE_SMALL}
DEFAULT_MODEL = VIETNAMESE_SMALL


class InstallError(Exception):
    """An install that cannot go on, with what to do about it. Nothing was changed."""


@dataclass(frozen=True)
class Installed:
    name: str
    path: Path
    sha256: str
    source: str
    licence: str | None
    already: bool = False


def _known(url: str | None, file: Path | None) -> ModelSource | None:
    for model in CATALOGUE.values():
        if url is not None and url == model.url:
            return model
        if file is not None and file.name == f"{model.name}.zip":
            return model
    return None


def checked_sha256(value: str | None) -> str | None:
    if value is None:
        return None
    digest = value.strip().lower()
    if not SHA256_PATTERN.match(digest):
        raise InstallError(f"--sha256 must be 64 hexadecimal characters, not {value!r}")
    return digest


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _megabytes(size: int) -> str:
    return f"{size / 1024**2:.1f} MB"


def download(url: str, into: Path, progress: Progress, *, timeout: float = 30.0) -> str:
    """Stream `url` into the file `into`, reporting every tenth of the way; its SHA-256."""
    digest = hashlib.sha256()
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise InstallError(
                    f"{url} answered HTTP {response.status_code}; check the address, or download the zip"
                    " elsewhere and use --from FILE.zip"
                )
            total = int(response.headers.get("content-length") or 0)
            progress(f"downloading {url}" + (f" ({_megabytes(total)})" if total else ""))
            done, shown = 0, 0
            with into.open("wb") as file:
                for block in response.iter_bytes(CHUNK):
                    file.write(block)
                    digest.update(block)
                    done += len(block)
                    step = done * 10 // total if total else done // (10 * CHUNK)
                    if step > shown:
                        shown = step
                        of = f" of {_megabytes(total)} ({done * 100 // total} %)" if total else ""
                        progress(f"  {_megabytes(done)}{of}")
    except httpx.HTTPError as exc:
        raise InstallError(
            f"cannot download {url} ({type(exc).__name__}: {exc}); this machine may have no internet."
            " Download the zip on a machine that has, copy it here and run"
            " `civicdesk speech install-model --from FILE.zip --sha256 HEX`"
        ) from exc
    return digest.hexdigest()


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    path = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return f"{name!r} is an absolute path"
    if ".." in path.parts:
        return f"{name!r} points outside the folder it is unpacked into"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"{name!r} is a symbolic link"
    return None


def unpack(archive: Path, into: Path) -> None:
    """Unpack the zip `archive` into the empty folder `into`, refusing anything that could land elsewhere."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            for info in members:
                problem = _unsafe_member(info)
                if problem:
                    raise InstallError(f"refused: the zip is unsafe: {problem}; nothing was installed")
            if sum(info.file_size for info in members) > MAX_UNPACKED_BYTES:
                raise InstallError(
                    f"refused: the zip would unpack to more than {_megabytes(MAX_UNPACKED_BYTES)}"
                )
            root = into.resolve()
            for info in members:
                target = (into / info.filename.replace("\\", "/")).resolve()
                if not target.is_relative_to(root):  # belt and braces after the checks above
                    raise InstallError(f"refused: {info.filename!r} would be unpacked outside {into}")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(info) as source, target.open("wb") as sink:
                    shutil.copyfileobj(source, sink, CHUNK)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise InstallError(f"{archive.name} is not a readable zip file ({exc}); download it again") from exc


def model_root(folder: Path) -> Path:
    """The folder holding the model: the unpacked folder itself or its one top-level folder."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return folder


def check_layout(root: Path) -> None:
    """A Vosk (Kaldi nnet3) model: an acoustic model, its configuration and a decoding graph."""
    missing = [p for p in ("am/final.mdl", "conf/model.conf") if not (root / p).is_file()]
    graph = root / "graph"
    if not (
        (graph / "HCLG.fst").is_file() or ((graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file())
    ):
        missing.append("graph/HCLG.fst (or graph/HCLr.fst with graph/Gr.fst)")
    if missing:
        raise InstallError(
            f"this is not a Vosk model: {', '.join(missing)} missing; use a model zip from"
            " https://alphacephei.com/vosk/models"
        )


def check_loads(root: Path) -> None:
    import vosk

    vosk.SetLogLevel(-1)
    try:
        vosk.Model(str(root))
    except Exception as exc:  # vosk raises a bare Exception for a model it cannot read
        raise InstallError(f"Vosk cannot load this model ({exc}); nothing was installed") from exc


def install(
    *,
    target_dir: Path,
    progress: Progress,
    archive: Path | None = None,
    url: str | None = None,
    sha256: str | None = None,
) -> Installed:
    """Install a model zip from `archive` or `url` (default: the Vietnamese model) under `target_dir`."""
    expected = checked_sha256(sha256)
    if archive is not None and url is not None:
        raise InstallError("use either --from FILE.zip or --url URL, not both")
    if archive is None and url is None:
        url = DEFAULT_MODEL.url
    known = _known(url, archive)
    expected = expected or (known.sha256 if known else None)
    if archive is None and expected is None:
        what = known.name if known else url
        raise InstallError(
            f"the SHA-256 of {what} is not recorded in CivicDesk (it could not be computed where this"
            " version was made), and nothing is installed unchecked: get the checksum from a source you"
            " trust and run again with --sha256 HEX"
        )
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".installing-", dir=target_dir) as work:
        staging = Path(work)
        if archive is not None:
            if not archive.is_file():
                raise InstallError(f"{archive} does not exist or is not a file")
            progress(f"checking {archive}")
            got, source = sha256_of(archive), str(archive)
            zipped = archive
        else:
            assert url is not None
            zipped = staging / "model.zip"
            got, source = download(url, zipped, progress), url
        if expected is None:
            raise InstallError(
                f"no checksum to check {archive} against: its SHA-256 is {got}; compare it with the one"
                " from a source you trust and run again with --sha256 HEX"
            )
        if got != expected:
            raise InstallError(
                f"checksum mismatch: expected SHA-256 {expected}, the file has {got}: it is damaged or not"
                " the file expected; nothing was installed"
            )
        progress(f"SHA-256 {got} verified; unpacking")
        unpacked = staging / "unpacked"
        unpacked.mkdir()
        unpack(zipped, unpacked)
        root = model_root(unpacked)
        check_layout(root)
        progress("loading it in Vosk to check it")
        check_loads(root)
        stem = archive.stem if archive is not None else PurePosixPath(urlparse(url or "").path).stem
        name = known.name if known else (root.name if root != unpacked else stem or "vosk-model")
        destination = target_dir / name
        marker = {
            "name": name,
            "source": source,
            "sha256": got,
            "licence": known.licence if known else None,
            "installed_at": utcnow().isoformat(),
        }
        if _same_install(destination, got):
            return Installed(name, destination.resolve(), got, source, marker["licence"], already=True)
        (root / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        old = staging / "replaced"
        if destination.exists():
            destination.rename(old)  # same filesystem: the old model is gone only once the new one is in
        root.rename(destination)
    return Installed(name, destination.resolve(), got, source, known.licence if known else None)


def _same_install(destination: Path, sha256: str) -> bool:
    try:
        marker = json.loads((destination / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("sha256") == sha256
