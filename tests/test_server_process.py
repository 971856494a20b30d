"""The web server's process (``civicdesk.server``, what uvicorn imports in each worker): what exists once the
application is built is frozen out of the garbage collector's full passes, which walked all of it and
paused every request for 50-200 ms under load (issue 22)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import Engine

FROZEN = "import gc, civicdesk.server; print(gc.get_freeze_count())"


def test_the_built_application_is_left_out_of_full_collections(engine: Engine, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CIVICDESK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CIVICDESK_BROKER_URL": os.environ["CIVICDESK_TEST_REDIS_URL"],
        "CIVICDESK_VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", FROZEN], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 50_000  # the modules, classes and functions of the whole app
