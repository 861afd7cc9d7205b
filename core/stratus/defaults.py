"""What the embedded cloud gives its admin project so a first server boots at once: a
network with a subnet and a small public image, made through the public APIs (the same
requests a user would send), and only when absent (a restart keeps what is there)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

NETWORK, SUBNET_CIDR, IMAGE = "private", "10.0.0.0/24", "tiny"
IMAGE_BYTES = b"\0" * 65536  # placeholder disk: the fake hypervisor never reads it; real ones need a real image


def _call(method: str, url: str, token: str | None = None, body: Any = None, raw: bytes | None = None,
          content_type: str = "application/json") -> tuple[dict[str, Any], Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (our own http:// base URL)
    if data is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("X-Auth-Token", token)
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        text = answer.read()
        return (json.loads(text) if text else {}), answer.headers  # case-insensitive lookups


def _token(base_url: str, password: str) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    deadline = time.monotonic() + 60
    while True:
        try:
            return _call("POST", f"{base_url}/identity/v3/auth/tokens", body=body)[1].get("X-Subject-Token")
        except urllib.error.URLError:  # the worker is still starting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def ensure(base_url: str, password: str) -> list[str]:
    """Make the default network, subnet and image if absent; return lines saying what exists."""
    token = _token(base_url, password)
    network = f"{base_url}/network/v2.0"
    found = _call("GET", f"{network}/networks?name={NETWORK}", token)[0]["networks"]
    if found:
        net_id = found[0]["id"]
    else:
        net_id = _call("POST", f"{network}/networks", token, {"network": {"name": NETWORK}})[0]["network"]["id"]
        _call("POST", f"{network}/subnets", token, {"subnet": {"network_id": net_id, "ip_version": 4,
                                                               "cidr": SUBNET_CIDR, "name": f"{NETWORK}-subnet"}})
    images = f"{base_url}/image/v2/images"
    found = _call("GET", f"{images}?name={IMAGE}", token)[0]["images"]
    if not found:
        image = _call("POST", images, token, {"name": IMAGE, "disk_format": "raw", "container_format": "bare",
                                              "visibility": "public"})[0]
        _call("PUT", f"{images}/{image['id']}/file", token, raw=IMAGE_BYTES, content_type="application/octet-stream")
    return [f"  defaults       network {NETWORK} ({SUBNET_CIDR}, id {net_id}), image {IMAGE}, flavors m1.*"]
