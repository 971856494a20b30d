"""Issue 18, as a user on a fresh machine: `civicdesk run` in an empty folder (embedded PostgreSQL and
Valkey) with CIVICDESK_AMI_* pointing at this machine starts its own AMI listener; an agent is made and
linked to a queue member with the CLI, signs in on the console, and `civicdesk simulate call`, another
process, is the PBX the listener logs in to: the agent's console pops the caller's card. Every process is
stopped at the end, as tests/test_run.py checks."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.fakes import free_port
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.test_run import _assert_none_left, _embedded_env, _everything_of, _start_run, folder  # noqa: F401
from tests.test_staff_browser import PASSWORD, sign_in

CALLER = "0905777888"
AGENT = "dtv.hoa"


def _civicdesk(where: Path, env: dict[str, str], *args: str) -> str:
    """A second `civicdesk` command on the run's folder: it reuses the run's engines."""
    done = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "civicdesk.cli", *args],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_simulate_call_against_civicdesk_run_pops_the_card_on_the_console(
    folder: Path,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    ami = {"HOST": "127.0.0.1", "PORT": str(free_port()), "USERNAME": "civicdesk", "SECRET": "sim"}
    # a short keep-alive: the listener notices the simulated PBX closing at the call's end at once
    env = {**_embedded_env(folder), **{f"CIVICDESK_AMI_{k}": v for k, v in ami.items()}}
    env["CIVICDESK_AMI_PING_SECONDS"] = "1"
    run, base, log = _start_run(folder, env)
    processes = _everything_of(run, folder)
    try:
        assert any("telephony" in p.cmdline() for p in processes), log.read_text()
        _civicdesk(folder, env, "user", "create", "--username", AGENT, "--password", PASSWORD, "--role=agent")
        _civicdesk(folder, env, "telephony", "link-agent", "PJSIP/agent101", AGENT, "--extension", "101")

        page = sign_in(browser, base, AGENT)
        expect(page).to_have_url(f"{base}/staff/console")

        pbx_log = folder / "simulate.log"
        # the listener has been retrying since the run started (its back-off reaches 30 s): wait longer
        command = [sys.executable, "-m", "civicdesk.cli", "simulate", "call", "--number", CALLER]
        command += ["--agent", "PJSIP/agent101", "--ring", "20", "--talk", "1", "--wait", "90"]
        with (
            pbx_log.open("wb") as out,
            subprocess.Popen(  # noqa: S603 - our own module
                command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT
            ) as pbx,
        ):
            try:
                expect(page.locator("#call-card")).to_contain_text(CALLER, timeout=90_000)
            finally:
                try:
                    pbx.wait(150)
                except subprocess.TimeoutExpired:
                    pbx.kill()  # the Popen block waits for it on the way out
        assert pbx.returncode == 0, pbx_log.read_text()
        assert "đã trả lời và kết thúc" in pbx_log.read_text()
        page.context.close()
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(120)
    assert run.returncode == 0, log.read_text()
    _assert_none_left(processes, folder)
