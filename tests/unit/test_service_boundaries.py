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


def test_a_compute_api_in_rest_mode_loads_no_other_service(tmp_path):
    """Serving compute alone with the other services over REST imports none of their
    internals (models, services, APIs): only their client modules."""
    import subprocess
    import sys
    import textwrap

    (tmp_path / "stratus.conf").write_text(textwrap.dedent(f"""
        [DEFAULT]
        state_path = {tmp_path}
        [api]
        services = compute
        [service_credentials]
        auth_type = password
        auth_url = http://127.0.0.1:9/identity
        username = stratus
        password = pw
        project_name = service
        user_domain_name = Default
        project_domain_name = Default
        [identity_client]
        mode = rest
        [image_client]
        mode = rest
        [network_client]
        mode = rest
        [compute_client]
        mode = rest
        [volume_client]
        mode = rest
        """))
    script = textwrap.dedent(f"""
        import sys
        from stratus import conf
        from stratus.api import composite
        from stratus.api.deps import build_deps, close_deps
        from stratus.hooks.manager import create_plugin_manager
        c = conf.build([{str(tmp_path / "stratus.conf")!r}])
        deps = build_deps(c, create_plugin_manager(c))
        app = composite.build(deps)
        print(sorted(app.apps))
        print(sorted(m for m in sys.modules if m.split(".")[:2] in (["stratus", "identity"], ["stratus", "image"],
                     ["stratus", "network"], ["stratus", "volume"])
                     and m.split(".")[2:3] != ["client"] and m.count(".") > 1))
        close_deps(deps)
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    mounted, others = done.stdout.splitlines()[-2:]
    assert mounted == "['/compute']"
    assert others == "[]", f"loaded another service's internals: {others}"


def test_every_service_with_a_client_publishes_one_and_has_its_option_group():
    import importlib

    from stratus import registry
    from stratus.conf.clients import CLIENTS

    with_client = [s for s in registry.SERVICES if s.client]
    assert {f"{s.name}_client" for s in with_client} == set(CLIENTS)
    for service in with_client:
        module = importlib.import_module(f"{service.package}.client")
        assert callable(module.from_conf), service.name
