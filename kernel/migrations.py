"""Schema changes by Alembic only. The migrations are the folder alembic/ of a checkout, installed as the
package `civicdesk_migrations` (see setup.py), so an installed wheel migrates without a checkout."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic.config import Config
from sqlalchemy.engine import Engine

from alembic import command

MIGRATIONS_PACKAGE = "civicdesk_migrations"


def script_location() -> Path:
    spec = importlib.util.find_spec(MIGRATIONS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package {MIGRATIONS_PACKAGE} is missing: reinstall civicdesk")
    return Path(next(iter(spec.submodule_search_locations)))


def alembic_config(engine: Engine | None = None) -> Config:
    """Configured in code; alembic.ini in a checkout is only for the `alembic` command of developers."""
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if engine is not None:
        # ConfigParser reads "%" as interpolation; a password or socket path in the URL is percent-encoded
        url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
        config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_heads(engine: Engine) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())
