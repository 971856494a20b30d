"""Only what pyproject.toml cannot say: the migrations live in the top-level folder alembic/ (where the
`alembic` command of a checkout finds them) and install as the package `civicdesk_migrations`. A package
named `alembic` would shadow the library, and pyproject's package discovery cannot rename a folder."""

from setuptools import find_namespace_packages, setup

APPLICATION = (
    "civicdesk kernel tickets telephony channels notifications routing nlp web sla open311 ioc"
    " incidents geo flows"
).split()
MIGRATIONS = {"civicdesk_migrations": "alembic", "civicdesk_migrations.versions": "alembic/versions"}

setup(
    # namespace discovery also lists the data folders (nlp/model, web/static…), as setuptools wants
    packages=[
        *find_namespace_packages(include=[*APPLICATION, *(f"{name}.*" for name in APPLICATION)]),
        *MIGRATIONS,
    ],
    package_dir=MIGRATIONS,
)
