"""Run upstream tempest's API tests against a fresh embedded cloud (``tox -e tempest``).

Starts ``stratus up`` on a free port with a new data directory, renders ``tempest.conf``
from the running cloud (:mod:`tests.tempest.render`), runs ``tempest run`` over the API
tests of the services the cloud serves, minus the checked-in exclusions
(``tests/tempest/exclude.txt``: each line a regex and the reason), and stops the cloud.
Tempest's multistore image tests want a cloud with several stores while its other image
tests want one (they wait for an import to reach every store without asking for them), so
they run as a second pass against a cloud of their own, as upstream runs a separate job.
The exit status is failure if any pass fails. Each pass's directory under the work
directory keeps ``tempest.conf``, ``tempest.log``, the cloud's output and the subunit stream.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
EXCLUDE = HERE / "exclude.txt"
# tempest's API test packages per catalog type; a service the cloud does not serve is not run
API_TESTS = {"identity": "identity", "compute": "compute", "image": "image", "network": "network",
             "block-storage": "volume", "object-store": "object_storage"}
COMPUTE_HOSTS = 2
CLOUD_CONF = f"""[DEFAULT]
debug = false

[compute]
# two hosts, so tempest's migration tests have somewhere to go
simulated_hosts = {COMPUTE_HOSTS}

[fake_hypervisor]
# a real disk's copy outlasts a request: tempest's negative snapshot tests create a second
# image while the first is still being saved
snapshot_latency = 1

[image]
# web-download tests fetch from a server this run starts on a free port
import_allowed_ports =
"""
MULTISTORE_CONF = CLOUD_CONF + """enabled_stores = local:file, second:file
"""
MULTISTORE_TESTS = (r"^tempest\.api\.image\.v2\.(admin\.test_images\.(ImportCopyImagesTest|MultiStoresImagesTest)"
                    r"|test_images\.(MultiStoresImportImagesTest|MultistoreLocationImportTest))\.")


class ImageServer:
    """A small HTTP server on 127.0.0.1 serving one image file (tempest's ``[image] http_image``:
    web-download and import tasks fetch it; this machine has no internet)."""

    def __init__(self, directory: Path) -> None:
        import functools
        import http.server
        import threading

        directory.mkdir(parents=True, exist_ok=True)
        (directory / "tempest-image.img").write_bytes(os.urandom(1 << 20))
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tempest-image.img"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def tempest_regex(catalog: set[str]) -> str:
    packages = sorted(API_TESTS[kind] for kind in catalog if kind in API_TESTS)
    return rf"^tempest\.api\.({'|'.join(packages)})\."


def run_pass(workdir: Path, cloud_conf: str, regex: str | None, exclude: list[str], workers: int,
             http_image: str) -> int:
    """Start a cloud in ``workdir``, run tempest against it, stop it; tempest's exit status."""
    import openstack

    from stratus.testing import EmbeddedCloud
    from tests.tempest.render import render

    data_dir, workspace = workdir / "cloud", workdir / "tempest"
    data_dir.mkdir(parents=True)
    cloud = EmbeddedCloud(data_dir, cloud_conf, timeout=120)
    try:
        clouds = yaml.safe_load(Path(cloud.clouds_yaml).read_text())["clouds"]["stratus"]
        auth = dict(clouds["auth"], region=clouds["region_name"])
        conn = openstack.connection.Connection(auth=clouds["auth"], region_name=clouds["region_name"],
                                               identity_api_version="3")
        catalog = {entry["type"] for entry in conn.session.auth.get_access(conn.session).service_catalog.catalog}
        # a workspace registry of its own: nothing written to ~/.tempest, no clash with earlier runs
        subprocess.run(["tempest", "init", "--workspace-path", str(workdir / "workspaces.yaml"), str(workspace)],
                       check=True, stdout=subprocess.DEVNULL)
        (workspace / "etc" / "tempest.conf").write_text(render(conn, auth, compute_hosts=COMPUTE_HOSTS,
                                                               http_image=http_image))
        conn.close()
        command = ["tempest", "run", "--concurrency", str(workers), "--regex", regex or tempest_regex(catalog)]
        for path_or_regex in exclude:
            command += ["--exclude-list", path_or_regex] if path_or_regex == str(EXCLUDE) else \
                ["--exclude-regex", path_or_regex]
        print(" ".join(command), flush=True)
        status = subprocess.run(command, cwd=workspace).returncode
        with open(workdir / "subunit.stream", "wb") as stream:
            subprocess.run(["stestr", "last", "--subunit"], cwd=workspace, stdout=stream, check=False)
        return status
    finally:
        cloud.stop()
        (workdir / "cloud.log").write_text("".join(cloud.lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", help="where the clouds' data, tempest.conf and logs go (default: a new "
                        "temporary directory, kept)")
    parser.add_argument("--workers", type=int, default=2, help="tempest's concurrency (default 2)")
    parser.add_argument("--regex", help="run only tests matching this regex, in one pass (default: the API "
                        "tests of every service in the catalog, and the multistore image tests in a second pass)")
    parser.add_argument("--multistore", action="store_true", help="with --regex: the cloud has two image stores")
    parser.add_argument("--no-exclude", action="store_true", help="ignore tests/tempest/exclude.txt")
    args = parser.parse_args(argv)

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="stratus-tempest-")).resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    print(f"tempest run in {workdir}", flush=True)
    files = ImageServer(workdir / "http")
    excluded = [] if args.no_exclude else [str(EXCLUDE)]
    if args.regex:
        passes = [("custom", MULTISTORE_CONF if args.multistore else CLOUD_CONF, args.regex, excluded)]
    else:
        passes = [("main", CLOUD_CONF, None, [*excluded, MULTISTORE_TESTS]),
                  ("multistore", MULTISTORE_CONF, MULTISTORE_TESTS, excluded)]
    failed = []
    try:
        for name, conf, regex, exclude in passes:
            print(f"--- tempest pass {name!r}", flush=True)
            if run_pass(workdir / name, conf, regex, exclude, args.workers, files.url) != 0:
                failed.append(name)
    finally:
        files.stop()
        print(f"tempest.conf, tempest.log, cloud.log and subunit.stream of each pass are under {workdir}",
              flush=True)
    if failed:
        print(f"tempest failed in pass(es): {', '.join(failed)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
