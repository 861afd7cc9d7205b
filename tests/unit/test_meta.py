"""Completeness checks over the whole core."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys

import stratus

ALEMBIC_ENV = "stratus.db.alembic.env"  # runs only inside Alembic


def all_modules() -> list[str]:
    names = ["stratus"]
    for info in pkgutil.walk_packages(stratus.__path__, "stratus."):
        if ".migrations.versions." not in info.name and info.name != ALEMBIC_ENV:
            names.append(info.name)
    return names


def test_every_module_imports_without_warnings():
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    result = subprocess.run([sys.executable, "-W", "error", "-c", code, *all_modules()],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_every_module_has_a_docstring():
    import importlib

    missing = [name for name in all_modules() if not (importlib.import_module(name).__doc__ or "").strip()]
    assert missing == []


def test_every_migration_belongs_to_a_registered_service():
    from stratus.db import migration

    root = os.path.dirname(stratus.__file__)
    for dirpath, _dirs, files in os.walk(root):
        if dirpath.endswith(os.path.join("migrations", "versions")) and any(f.endswith(".py") for f in files):
            package = "stratus." + os.path.relpath(os.path.dirname(os.path.dirname(dirpath)), root).replace(os.sep, ".")
            assert package in migration.SERVICES.values(), package


def test_no_two_services_own_a_table_of_the_same_name():
    import importlib

    from stratus.db import migration

    owner: dict[str, str] = {}
    for service, package in migration.SERVICES.items():
        for table in importlib.import_module(f"{package}.models").Base.metadata.tables:
            assert table not in owner, f"{service} and {owner[table]} both define table {table}"
            owner[table] = service
