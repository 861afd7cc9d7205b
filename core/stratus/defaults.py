"""What the embedded cloud gives its admin project so a first server boots at once: a
network with a subnet and a small public image, made through the public APIs (the same
requests a user would send), and only when absent (a restart keeps what is there)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

NETWORK, PUBLIC_NETWORK, IMAGE = "private", "public", "tiny"
#: the API roots a cloud that answers serves (with a token: the services behind them work)
ROOTS = ("/compute/v2.1", "/image/v2/images?limit=1", "/network/v2.0/networks?limit=1")
IMAGE_BYTES = b"\0" * 65536  # placeholder disk: the fake hypervisor never reads it; real ones need a real image


def call(method: str, url: str, token: str | None = None, body: Any = None, raw: bytes | None = None,
          content_type: str = "application/json") -> tuple[dict[str, Any], Any]:
    """``method`` on ``url`` with ``token``: the decoded JSON answer and its headers.

    :raises urllib.error.HTTPError: the answer was not 2xx; :raises OSError: no answer."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (our own http:// base URL)
    if data is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("X-Auth-Token", token)
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        text = answer.read()
        return (json.loads(text) if text else {}), answer.headers  # case-insensitive lookups


def admin_token(base_url: str, password: str) -> str:
    """A token of the admin, project-scoped to admin, waiting up to a minute for the API."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    deadline = time.monotonic() + 60
    while True:
        try:
            return call("POST", f"{base_url}/identity/v3/auth/tokens", body=body)[1].get("X-Subject-Token")
        except urllib.error.URLError:  # the worker is still starting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def answering(base_url: str, password: str) -> None:
    """Return once the cloud issues the admin a token and each API answers it (waiting for the
    worker to start). :raises OSError: it did not."""
    token = admin_token(base_url, password)
    for root in ROOTS:
        call("GET", f"{base_url}{root}", token)


def _network(network: str, token: str, name: str, cidr: str, external: bool) -> str:
    found = call("GET", f"{network}/networks?name={name}", token)[0]["networks"]
    if found:
        return found[0]["id"]
    body: dict[str, Any] = {"name": name}
    if external:
        body["router:external"] = True
    net_id = call("POST", f"{network}/networks", token, {"network": body})[0]["network"]["id"]
    call("POST", f"{network}/subnets", token, {"subnet": {"network_id": net_id, "ip_version": 4, "cidr": cidr,
                                                           "name": f"{name}-subnet", "enable_dhcp": not external}})
    return net_id


def ensure(base_url: str, password: str, private_cidr: str, public_cidr: str | None) -> list[str]:
    """Make the default networks (``private``; ``public``, external, unless ``public_cidr`` is
    empty), their subnets and the image if absent; return lines saying what exists."""
    token = admin_token(base_url, password)
    network = f"{base_url}/network/v2.0"
    net_id = _network(network, token, NETWORK, private_cidr, external=False)
    lines = [f"  defaults       network {NETWORK} ({private_cidr}, id {net_id}), image {IMAGE}, flavors m1.*"]
    if public_cidr:
        public_id = _network(network, token, PUBLIC_NETWORK, public_cidr, external=True)
        lines.append(f"                 external network {PUBLIC_NETWORK} ({public_cidr}, id {public_id}) for "
                     "floating IPs")
    images = f"{base_url}/image/v2/images"
    found = call("GET", f"{images}?name={IMAGE}", token)[0]["images"]
    if not found:
        image = call("POST", images, token, {"name": IMAGE, "disk_format": "raw", "container_format": "bare",
                                              "visibility": "public"})[0]
        call("PUT", f"{images}/{image['id']}/file", token, raw=IMAGE_BYTES, content_type="application/octet-stream")
    return lines
