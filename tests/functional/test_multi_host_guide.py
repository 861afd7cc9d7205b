"""docs/multi-host.md, followed literally on PostgreSQL and RabbitMQ.

Each ``sh`` block runs in bash as written; each ``sh service`` block is started and left
running until its "serving" line; the ``ini`` and ``yaml`` blocks are written with their
``<...>`` placeholders filled in. Only the blocks marked ``once-per-site`` (creating the
database and broker accounts, installing) are done by the test run itself: a throwaway
PostgreSQL database, a RabbitMQ virtual host of this test, the environment tox installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

import pytest

from tests.fixtures.rabbitmq import free_port

GUIDE = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "multi-host.md")
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.M | re.S)
SERVING = re.compile(r"Stratus .*serving (on|over)")


def blocks() -> list[tuple[str, str, str]]:
    with open(GUIDE) as f:
        return [(lang, tag.strip(), body) for lang, tag, body in BLOCK.findall(f.read())]


class Service:
    """A ``sh service`` block, running until stopped."""

    def __init__(self, script: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(["bash", "-c", f"exec {script.strip()}"], env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self.reader.start()
        deadline = time.monotonic() + 60
        while not SERVING.search("".join(self.lines)):
            assert self.process.poll() is None and time.monotonic() < deadline, f"{script}: {''.join(self.lines)}"
            time.sleep(0.1)

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def follow(guide: list[tuple[str, str, str]], values: dict[str, str], env: dict[str, str], directory,
           services: list[Service], outputs: list[str]) -> None:
    """Do what a guide's blocks say, ``<...>`` filled from ``values``: ``ini`` blocks written
    (``file=NAME``, else stratus.conf), the ``yaml`` block as clouds.yaml, ``sh service`` blocks
    started (into ``services``), other ``sh`` blocks run (their output into ``outputs``);
    ``once-per-site`` blocks are the test run's own."""
    for lang, tag, body in guide:
        for placeholder, value in values.items():
            body = body.replace(placeholder, value)
        assert "<" not in body.replace("<<", ""), f"a placeholder the test does not fill: {body}"
        if tag == "once-per-site":
            continue
        if lang == "ini":
            (directory / (tag.removeprefix("file=") if tag else "stratus.conf")).write_text(body)
        elif lang == "yaml":
            (directory / "clouds.yaml").write_text(body)
        elif tag == "service":
            services.append(Service(body, env))
        else:
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", body], env=env, capture_output=True,
                                  text=True, timeout=600)
            logs = "".join(f"--- {s.process.args[-1]}\n{''.join(s.lines[-40:])}" for s in services)
            assert done.returncode == 0, f"{body}\n{done.stdout}\n{done.stderr}\n{logs}"
            outputs.append(done.stdout)


def test_the_guide_blocks_are_what_the_test_expects():
    kinds = [(lang, tag) for lang, tag, _ in blocks()]
    assert ("ini", "") in kinds and ("ini", "file=controller.conf") in kinds and ("yaml", "") in kinds
    assert kinds.count(("sh", "service")) == 5
    assert {tag for _, tag in kinds} <= {"", "service", "once-per-site", "file=controller.conf"}


@pytest.mark.postgresql
@pytest.mark.rabbitmq
def test_the_multi_host_guide_works_as_written(tmp_path, pg_url, rabbit_vhost_url):
    port = free_port()
    values = {
        "<state directory>": str(tmp_path / "state"),
        "<database url, e.g. postgresql+psycopg://stratus:secret@controller/stratus>": pg_url,
        "<broker url, e.g. amqp://stratus:secret@controller:5672/stratus>": rabbit_vhost_url,
        "<address the API listens on>": "127.0.0.1",
        "<API port>": str(port),
        "<image directory>": str(tmp_path / "images"),
        "<admin password>": "guide-pw",
        "<service password>": "service-pw",
    }
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, STRATUS_CONF=str(tmp_path / "stratus.conf"), ADMIN_PASSWORD="guide-pw",
               SERVICE_PASSWORD="service-pw",
               OS_CLIENT_CONFIG_FILE=str(tmp_path / "clouds.yaml"), PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}")
    services: list[Service] = []
    outputs = []
    cwd = os.getcwd()
    os.chdir(tmp_path)  # the guide names controller.conf relative to where it runs
    try:
        follow(blocks(), values, env, tmp_path, services, outputs)
        last = outputs[-1]
        assert re.search(r"\| status\s+\| ACTIVE", last) and re.search(r"host\s+\| compute[12]", last), last
        joined = "".join(outputs)
        for binary in ("nova-scheduler", "nova-conductor", "nova-compute"):
            assert binary in joined
    finally:
        os.chdir(cwd)
        for service in reversed(services):
            assert service.stop() == 0, "".join(service.lines)
