"""No service imports another service's internals (issue 17): the import graph.

A service reaches another only through what that one publishes for it (its ``client``
module). The crossings that exist today are listed below, each to go as the seams land;
the test fails on any new one and on a listed one that is gone (so the list only shrinks).
"""

from __future__ import annotations

import ast
import os

import stratus

ROOT = os.path.dirname(stratus.__file__)
SERVICES = ("identity", "compute", "image", "network", "volume", "object_store")
PUBLISHED = "client"  # stratus.<service>.client: what a service offers the others

#: module (below stratus/) -> the other services' modules it still imports (issue 17 removes them)
KNOWN: dict[str, set[str]] = {}


def imported(path: str) -> set[str]:
    """The ``stratus.<service>.<module>`` names a file imports (``from stratus.x import y``
    counts as ``stratus.x.y`` when y is a module of x)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    found = set()
    for name in names:
        parts = name.split(".")
        if len(parts) < 3 or parts[0] != "stratus" or parts[1] not in SERVICES:
            continue
        module = os.path.join(ROOT, parts[1], parts[2])
        if os.path.exists(f"{module}.py") or os.path.isdir(module):
            found.add(".".join(parts[:3]))
    return found


def crossings() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for service in SERVICES:
        for directory, _, files in os.walk(os.path.join(ROOT, service)):
            for name in files:
                if not name.endswith(".py"):
                    continue
                path = os.path.join(directory, name)
                other = {m for m in imported(path) if m.split(".")[1] not in (service,)
                         and m.split(".")[1] in SERVICES and m.split(".")[2] != PUBLISHED}
                if other:
                    found[os.path.relpath(path, ROOT)] = other
    return found


def test_no_service_imports_another_service_internals_beyond_the_known_ones():
    found = crossings()
    new = {path: sorted(mods - KNOWN.get(path, set())) for path, mods in found.items() if mods - KNOWN.get(path, set())}
    assert not new, f"new imports of another service's internals (use its {PUBLISHED} module): {new}"
    gone = {path: sorted(mods - found.get(path, set())) for path, mods in KNOWN.items()
            if mods - found.get(path, set())}
    assert not gone, f"these crossings are gone: remove them from KNOWN so they cannot come back: {gone}"


def test_the_check_sees_imports_of_other_services():
    assert "stratus.network.client" in imported(os.path.join(ROOT, "compute", "processes.py"))
    identity = imported(os.path.join(ROOT, "identity", "service.py"))
    assert identity and all(m.startswith("stratus.identity.") for m in identity)


def test_the_compute_api_does_not_import_the_host_side():
    """The API casts to hosts by topic; it never loads the manager (nor its hypervisor driver)."""
    api = os.path.join(ROOT, "compute", "api")
    offenders = []
    for name in sorted(os.listdir(api)):
        if name.endswith(".py"):
            with open(os.path.join(api, name)) as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                module = node.module if isinstance(node, ast.ImportFrom) else None
                names = [a.name for a in node.names] if isinstance(node, ast.Import | ast.ImportFrom) else []
                if module == "stratus.compute.manager" or "stratus.compute.manager" in names or (
                        module == "stratus.compute" and "manager" in names):
                    offenders.append(name)
    assert offenders == []
