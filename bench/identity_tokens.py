"""Token issue and validation: throughput and latency of Stratus, beside upstream Keystone.

Both servers run on this machine with the same number of gunicorn workers, SQLite, and
their own token keys; the same client load (fixed concurrency, fixed duration, keep-alive
connections) is run against each. Prints figures; asserts nothing.

    python bench/identity_tokens.py                      # Stratus only
    python bench/identity_tokens.py --keystone           # also Keystone from PyPI, in a throwaway venv
    python bench/identity_tokens.py --workers 2 --concurrency 8 --duration 10

The load comes from ApacheBench (``ab``, keep-alive; Debian's apache2-utils) when it is
installed, which leaves the two cores to the servers, else from Python threads; each
operation is warmed up first and only requests finished within the window count. Keystone
hashes passwords with bcrypt at the rounds whose cost is nearest to Stratus's argon2id
settings (both timed here), so ``issue`` compares equal password work. Last, a service's
check of a token it validated before (Stratus's cached REST validator) is timed beside a
validation through the identity API.

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


def argon2_seconds() -> float:
    """How long one password hash takes with Stratus's default argon2id settings."""
    from stratus import conf as config
    from stratus.identity import passwords

    settings = config.build([]).identity
    passwords.hash_password("warm-up", settings.argon2_memory_cost, settings.argon2_time_cost, 4096)
    started = time.perf_counter()
    for _ in range(5):
        passwords.hash_password(PASSWORD, settings.argon2_memory_cost, settings.argon2_time_cost, 4096)
    return (time.perf_counter() - started) / 5


def matching_bcrypt_rounds(python: str, target: float) -> tuple[int, float]:
    """The bcrypt rounds (4-14) whose hash time in the Keystone venv is nearest ``target``."""
    script = ("import bcrypt, time, json\nout = {}\nfor r in range(4, 15):\n"
              "    s = bcrypt.gensalt(r); t = time.perf_counter(); bcrypt.hashpw(b'pw', s)\n"
              "    out[r] = time.perf_counter() - t\n    if out[r] > 1: break\nprint(json.dumps(out))")
    import json

    timings = {int(k): v for k, v in json.loads(subprocess.run([python, "-c", script], check=True,
                                                                capture_output=True, text=True).stdout).items()}
    rounds = min(timings, key=lambda r: abs(timings[r] - target))
    return rounds, timings[rounds]


def start_keystone(workdir: str, workers: int, venv_dir: str | None) -> Target:
    venv_dir = venv_dir or os.path.join(workdir, "keystone-venv")
    python = os.path.join(venv_dir, "bin", "python")
    if not os.path.exists(python):
        print(f"installing keystone and gunicorn into {venv_dir} ...", flush=True)
        venv.create(venv_dir, with_pip=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "keystone", "gunicorn"], check=True)
    ours = argon2_seconds()
    rounds, theirs = matching_bcrypt_rounds(python, ours)
    print(f"password hashing: stratus argon2id {ours * 1e3:.1f} ms, keystone bcrypt rounds {rounds} "
          f"{theirs * 1e3:.1f} ms", flush=True)
    port = free_port()
    keys = os.path.join(workdir, "fernet-keys")
    credential_keys = os.path.join(workdir, "credential-keys")
    conf = os.path.join(workdir, "keystone.conf")
    with open(conf, "w") as f:
        f.write(f"[database]\nconnection = sqlite:///{workdir}/keystone.sqlite\n"
                f"[fernet_tokens]\nkey_repository = {keys}\n"
                f"[credential]\nkey_repository = {credential_keys}\n"
                f"[identity]\npassword_hash_algorithm = bcrypt\npassword_hash_rounds = {rounds}\n"
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
            if time.monotonic() <= stop_at:  # only what finished within the window counts
                samples[index].append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{target.name} {operation}: {errors[0]}")
    return [s for per_thread in samples for s in per_thread]


def run_ab(target: Target, operation: str, concurrency: int, duration: float) -> str:
    """``operation`` under ApacheBench (keep-alive): its requests/s and median latency."""
    import json
    import re

    issued = requests.post(f"{target.auth_url}/auth/tokens", json=auth_body(), timeout=30)
    issued.raise_for_status()
    token = issued.headers["X-Subject-Token"]
    url = f"{target.auth_url}/auth/tokens"
    def command(seconds: float) -> list[str]:
        return ["ab", "-q", "-k", "-r", "-c", str(concurrency), "-t", str(seconds), "-n", "10000000", *extra]

    extra: list[str] = []
    if operation == "issue":
        body = os.path.join(tempfile.mkdtemp(), "body.json")
        with open(body, "w") as f:
            json.dump(auth_body(), f)
        extra += ["-p", body, "-T", "application/json"]
    else:
        extra += ["-H", f"X-Auth-Token: {token}", "-H", f"X-Subject-Token: {token}"]
        if operation == "check":
            extra += ["-i"]
    subprocess.run([*command(2), url], capture_output=True, check=False)  # warm-up
    done = subprocess.run([*command(duration), url], capture_output=True, text=True, check=False)
    rate = re.search(r"Requests per second:\s+([\d.]+)", done.stdout)
    failed = re.search(r"Non-2xx responses:\s+(\d+)", done.stdout)
    median = re.search(r"\n\s+50%\s+(\d+)", done.stdout)
    if rate is None or failed:
        raise RuntimeError(f"{target.name} {operation}: ab said {done.stdout[-500:]} {done.stderr[-300:]}")
    return f"{float(rate.group(1)):8.0f} req/s   median {int(median.group(1)) if median else -1:5d} ms (ab)"


def service_check(target: Target) -> None:
    """A service checking a token: Stratus's cached REST validator, a hit and a miss."""
    from stratus import conf as config
    from stratus.identity.client import CachedValidator, RestTokenValidator
    from stratus.service_auth import ServiceAuth

    conf = config.build([])
    from keystoneauth1 import loading

    conf.register_opts(loading.get_auth_plugin_conf_options("password"), group="service_credentials")
    for name, value in {"auth_type": "password", "auth_url": target.auth_url.removesuffix("/v3"),
                        "username": "admin", "password": PASSWORD, "project_name": "admin",
                        "user_domain_name": "Default", "project_domain_name": "Default"}.items():
        conf.set_override(name, value, group="service_credentials")
    conf.set_override("endpoint_override", target.auth_url.removesuffix("/v3"), group="identity_client")
    auth = ServiceAuth(conf)
    try:
        rest = RestTokenValidator(conf, auth)
        cached = CachedValidator(rest, 300, 10000)
        token = requests.post(f"{target.auth_url}/auth/tokens", json=auth_body(), timeout=30).headers[
            "X-Subject-Token"]
        misses = []
        for _ in range(50):
            started = time.perf_counter()
            rest.validate(token)
            misses.append(time.perf_counter() - started)
        cached.validate(token)
        hits = []
        for _ in range(10000):
            started = time.perf_counter()
            cached.validate(token)
            hits.append(time.perf_counter() - started)
        print(f"  service token check ({target.name}): cached {statistics.median(hits) * 1e6:.1f} µs, "
              f"through the identity API {statistics.median(misses) * 1e3:.2f} ms (medians)")
    finally:
        auth.close()


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
    parser.add_argument("--client", choices=["auto", "ab", "python"], default="auto",
                        help="what makes the load (auto: ab when installed)")
    args = parser.parse_args()
    use_ab = args.client == "ab" or (args.client == "auto" and shutil.which("ab") is not None)
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
                if use_ab:
                    figures = run_ab(target, operation, args.concurrency, args.duration)
                    print(f"  {operation:<9} {target.name:<9} {figures}", flush=True)
                    continue
                run_load(target, operation, args.concurrency, 2)  # warm-up
                samples = run_load(target, operation, args.concurrency, args.duration)
                print(f"  {operation:<9} {target.name:<9} {summary(samples, args.duration)}", flush=True)
        service_check(targets[0])
    finally:
        for target in targets:
            target.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
