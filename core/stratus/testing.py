"""Public test helpers for the core's tests and for driver packages' own tests."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from stratus.loading import installed_drivers

__all__ = ["EmbeddedCloud", "installed_drivers"]


class EmbeddedCloud:
    """``stratus up`` in a subprocess with ``config`` as its stratus.conf, for end-to-end tests
    of a driver: ``base_url``, ``clouds_yaml`` (cloud ``stratus``), and :meth:`stop`.
    ``defaults=False``: without the default network and image (tests that count objects)."""

    def __init__(self, data_dir: Path, config: str, timeout: float = 60, defaults: bool = True) -> None:
        self.data_dir = data_dir
        (data_dir / "stratus.conf").write_text(config)
        self.clouds_yaml = str(data_dir / "clouds.yaml")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stratus.cmd.cli", "--config-file", str(data_dir / "stratus.conf"), "up",
             "--port", "0", "--data-dir", str(data_dir), *([] if defaults else ["--no-defaults"])],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout or ()), daemon=True).start()
        deadline = time.monotonic() + timeout
        while "token issue" not in "".join(self.lines):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("stratus up did not start:\n" + "".join(self.lines))
            time.sleep(0.05)
        found = re.search(r"http://[\d.]+:\d+", "".join(self.lines))
        assert found is not None
        self.base_url = found.group(0)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
