"""`stratus api` run by the tests on a configuration they wrote, as an operator starts it."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator


def stratus(conf: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stratus.cmd.cli", "--config-file", conf, *args],
                          capture_output=True, text=True, timeout=120)


@contextlib.contextmanager
def identity_api(conf: str, admin_password: str) -> Iterator[str]:
    """Set up keys, tables and the admin account for ``conf``, serve `stratus api` on it;
    yields its identity v3 URL and stops it afterwards."""
    for command in (("manage", "token-keys", "setup"), ("manage", "db", "sync"),
                    ("manage", "bootstrap", "--password", admin_password, "--public-url", "http://127.0.0.1")):
        result = stratus(conf, *command)
        assert result.returncode == 0, result.stderr
    process = subprocess.Popen([sys.executable, "-m", "stratus.cmd.cli", "--config-file", conf, "api"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    try:
        deadline, url = time.monotonic() + 60, None
        while url is None and time.monotonic() < deadline and process.poll() is None:
            match = re.search(r"http://[\d.]+:\d+", "".join(lines))
            url = match.group(0) if match else None
            time.sleep(0.05)
        assert url, "".join(lines)
        yield f"{url}/identity/v3"
    finally:
        process.terminate()
        process.wait(30)
