"""Start Stratus commands as a user would, in subprocesses, and stop them cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

from tests.fixtures import distribution

URL = re.compile(r"http://[\d.]+:\d+")


def stratus_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "stratus.cmd.cli", *args]


def env_with(*paths: str) -> dict[str, str]:
    extra = [p for p in (*paths, os.environ.get("PYTHONPATH", "")) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(extra))


def run(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(stratus_command(*args), capture_output=True, text=True, timeout=timeout,
                          env=env or env_with(distribution.FIXTURES))


class Server:
    """A long-running command that prints its base URL when ready.

    Its output is collected by a reader thread, so a test never blocks on it.
    """

    def __init__(self, *args: str, env: dict | None = None, cwd: str | None = None,
                 ready: re.Pattern = URL) -> None:
        """``ready``: what the command prints once it serves (its base URL by default)."""
        self.process = subprocess.Popen(stratus_command(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env=env, cwd=cwd)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.base_url = self.wait_for(ready, 60)
        if self.base_url is None:
            self.stop()
            raise RuntimeError(f"server did not start: {self.text}")

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: re.Pattern, timeout: float) -> str | None:
        """The first match of ``pattern`` in the output, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = pattern.search(self.text)
            if match:
                return match.group(0)
            if self.process.poll() is not None and not self._reader.is_alive():
                return None
            time.sleep(0.05)
        return None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        return self.process.returncode


def tree_rss(pid: int) -> int:
    """Resident memory in bytes of ``pid`` and its descendants (gunicorn's workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        pending += children.get(current, [])
        try:
            with open(f"/proc/{current}/status") as status:
                total += next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total


def openstack(clouds_yaml: str, *args: str, timeout: float = 120) -> str:
    """The ``openstack`` CLI as a user runs it against cloud ``stratus``; its output (it must succeed)."""
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=clouds_yaml, OS_CLOUD="stratus")
    done = subprocess.run([sys.executable, "-m", "openstackclient.shell", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)
    assert done.returncode == 0, f"openstack {' '.join(args)}: {done.stderr}"
    return done.stdout
