"""``stratus up`` in a subprocess with a given configuration, for end-to-end tests."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path


class EmbeddedCloud:
    def __init__(self, data_dir: Path, config: str) -> None:
        self.data_dir = data_dir
        (data_dir / "stratus.conf").write_text(config)
        self.clouds_yaml = str(data_dir / "clouds.yaml")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stratus.cmd.cli", "--config-file", str(data_dir / "stratus.conf"), "up",
             "--port", "0", "--data-dir", str(data_dir)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True).start()
        deadline = time.monotonic() + 60
        while "token issue" not in "".join(self.lines):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("stratus up did not start:\n" + "".join(self.lines))
            time.sleep(0.05)
        self.base_url = re.search(r"http://[\d.]+:\d+", "".join(self.lines)).group(0)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
