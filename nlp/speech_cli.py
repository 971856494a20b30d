"""`civicdesk speech install-model`: put a Vosk model in place, checked, and say which setting uses it."""

from __future__ import annotations

from pathlib import Path

import click

from kernel.settings import get_settings
from nlp import speech_install


class SpeechProblem(click.ClickException):
    exit_code = 2


@click.group("speech")
def speech_group() -> None:
    """Speech recognition for voicemail (Vosk models)."""


@speech_group.command("install-model")
@click.option(
    "--from",
    "archive",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A model zip already on this machine (for a machine without internet).",
)
@click.option(
    "--url",
    default=None,
    help=f"Download this zip instead of {speech_install.DEFAULT_MODEL.name}"
    f" ({speech_install.DEFAULT_MODEL.url}).",
)
@click.option("--sha256", default=None, help="The zip's SHA-256, from a source you trust.")
@click.option(
    "--dir",
    "target_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where models are installed; default: VAR_DIR/speech.",
)
def install_model(archive: Path | None, url: str | None, sha256: str | None, target_dir: Path | None) -> None:
    """Download (or take from --from) a Vosk model zip, verify its SHA-256, unpack it safely, check that
    Vosk loads it, and install it. Default: the Vietnamese model vosk-model-small-vn-0.4 (Apache-2.0)."""
    folder = target_dir or get_settings().var_dir / "speech"
    try:
        done = speech_install.install(
            target_dir=folder,
            progress=lambda line: click.echo(line, err=True),
            archive=archive,
            url=url,
            sha256=sha256,
        )
    except speech_install.InstallError as exc:
        raise SpeechProblem(str(exc)) from exc
    except OSError as exc:
        raise SpeechProblem(f"cannot write under {folder}: {exc}") from exc
    state = "already installed" if done.already else "installed"
    licence = f" (licence {done.licence})" if done.licence else ""
    click.echo(f"{done.name} {state} in {done.path}{licence}")
    click.echo(
        f"to use it, set CIVICDESK_VOSK_MODEL={done.path} for the workers (in .env or their environment)"
    )
