"""Token issue and validation: throughput and latency of Stratus, beside upstream Keystone.

Both servers run on this machine with the same number of gunicorn workers, SQLite, and
their own token keys; the same client load (fixed concurrency, fixed duration, keep-alive
connections) is run against each. Prints figures; asserts nothing.

    python bench/identity_tokens.py                      # Stratus only
    python bench/identity_tokens.py --keystone           # also Keystone from PyPI, in a throwaway venv
    python bench/identity_tokens.py --workers 2 --concurrency 8 --duration 10

Operations: ``issue`` (POST /v3/auth/tokens, password, project scope), ``validate``
(GET /v3/auth/tokens with X-Subject-Token, the catalog included) and ``check`` (HEAD, what
a service does to validate without the body).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import venv
from dataclasses import dataclass

import requests

PASSWORD = "bench-password"  # noqa: S105 - a throwaway local server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


@dataclass
class Target:
    name: str
    auth_url: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_stratus(workdir: str, workers: int, transport_url: str) -> Target:
    port = free_port()
    conf = os.path.join(workdir, "stratus.conf")
    with open(conf, "w") as f:
        f.write(f"[DEFAULT]\nstate_path = {workdir}\n[api]\nport = {port}\nworkers = {workers}\n"
                f"[messaging]\ntransport_url = {transport_url}\n")
    stratus = [sys.executable, "-m", "stratus.cmd.cli", "--config-file", conf]
    for args in (["manage", "token-keys", "setup"], ["manage", "db", "sync"],
                 ["manage", "bootstrap", "--password", PASSWORD, "--public-url", f"http://127.0.0.1:{port}"]):
        subprocess.run(stratus + args, check=True, capture_output=True)
    process = subprocess.Popen([*stratus, "api"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{port}/identity/v3")
    return Target("stratus", f"http://127.0.0.1:{port}/identity/v3", process)


def start_keystone(workdir: str, workers: int, venv_dir: str | None) -> Target:
    venv_dir = venv_dir or os.path.join(workdir, "keystone-venv")
    python = os.path.join(venv_dir, "bin", "python")
    if not os.path.exists(python):
        print(f"installing keystone and gunicorn into {venv_dir} ...", flush=True)
        venv.create(venv_dir, with_pip=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "keystone", "gunicorn"], check=True)
    port = free_port()
    keys = os.path.join(workdir, "fernet-keys")
    credential_keys = os.path.join(workdir, "credential-keys")
    conf = os.path.join(workdir, "keystone.conf")
    with open(conf, "w") as f:
        f.write(f"[database]\nconnection = sqlite:///{workdir}/keystone.sqlite\n"
                f"[fernet_tokens]\nkey_repository = {keys}\n"
                f"[credential]\nkey_repository = {credential_keys}\n"
                "[token]\nprovider = fernet\n")
    manage = [os.path.join(venv_dir, "bin", "keystone-manage"), "--config-file", conf]
    for args in (["db_sync"], ["fernet_setup", "--keystone-user", "root", "--keystone-group", "root"],
                 ["credential_setup", "--keystone-user", "root", "--keystone-group", "root"],
                 ["bootstrap", "--bootstrap-password", PASSWORD, "--bootstrap-public-url",
                  f"http://127.0.0.1:{port}/v3"]):
        subprocess.run(manage + args, check=True, capture_output=True)
    # Keystone parses sys.argv for its own options; under gunicorn that holds gunicorn's flags
    with open(os.path.join(workdir, "keystone_app.py"), "w") as f:
        f.write("import sys\nsys.argv = sys.argv[:1]\n"
                "from keystone.server.wsgi import initialize_public_application\n"
                "application = initialize_public_application()\n")
    env = dict(os.environ, OS_KEYSTONE_CONFIG_FILES=conf)
    process = subprocess.Popen(
        [os.path.join(venv_dir, "bin", "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "-k", "gthread", "--threads", "8", "--chdir", workdir, "keystone_app:application"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{port}/v3")
    return Target("keystone", f"http://127.0.0.1:{port}/v3", process)


def auth_body() -> dict:
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}


def run_load(target: Target, operation: str, concurrency: int, duration: float) -> list[float]:
    session = requests.Session()
    issued = session.post(f"{target.auth_url}/auth/tokens", json=auth_body(), timeout=30)
    issued.raise_for_status()
    token = issued.headers["X-Subject-Token"]
    headers = {"X-Auth-Token": token, "X-Subject-Token": token}
    samples: list[list[float]] = [[] for _ in range(concurrency)]
    errors: list[str] = []
    stop_at = time.monotonic() + duration

    def worker(index: int) -> None:
        own = requests.Session()
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            if operation == "issue":
                response = own.post(f"{target.auth_url}/auth/tokens", json=auth_body(), timeout=30)
                ok = response.status_code == 201
            elif operation == "validate":
                response = own.get(f"{target.auth_url}/auth/tokens", headers=headers, timeout=30)
                ok = response.status_code == 200
            else:
                response = own.head(f"{target.auth_url}/auth/tokens", headers=headers, timeout=30)
                ok = response.status_code == 200
            if not ok:
                errors.append(f"{response.status_code} {response.text[:100]}")
                return
            samples[index].append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{target.name} {operation}: {errors[0]}")
    return [s for per_thread in samples for s in per_thread]


def summary(samples: list[float], duration: float) -> str:
    ordered = sorted(samples)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return (f"{len(samples) / duration:8.0f} req/s   median {statistics.median(samples) * 1e3:7.1f} ms   "
            f"p99 {p99 * 1e3:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each server")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per operation and server")
    parser.add_argument("--transport-url", default="amqp://guest:guest@127.0.0.1:5672//",
                        help="the broker `stratus api` needs (RabbitMQ on this machine by default)")
    parser.add_argument("--keystone", action="store_true", help="also measure upstream Keystone")
    parser.add_argument("--keystone-venv", help="reuse a virtualenv that has keystone and gunicorn")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-identity-")
    targets: list[Target] = []
    try:
        os.makedirs(os.path.join(workdir, "stratus"))
        targets.append(start_stratus(os.path.join(workdir, "stratus"), args.workers, args.transport_url))
        if args.keystone:
            os.makedirs(os.path.join(workdir, "keystone"))
            targets.append(start_keystone(os.path.join(workdir, "keystone"), args.workers, args.keystone_venv))
        print(f"{args.workers} workers per server, {args.concurrency} client threads, {args.duration:.0f} s each, "
              f"{os.cpu_count()} cores shared by servers and client")
        for operation in ("issue", "validate", "check"):
            for target in targets:
                samples = run_load(target, operation, args.concurrency, args.duration)
                print(f"  {operation:<9} {target.name:<9} {summary(samples, args.duration)}", flush=True)
    finally:
        for target in targets:
            target.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
