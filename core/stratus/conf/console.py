"""Options of remote consoles: ``[vnc]``, ``[serial_console]`` (Nova's groups, read by the compute
hosts' hypervisors and by the API when it hands out console URLs), ``[console]`` (tokens) and
``[console_proxy]`` (``stratus console-proxy``, also inside ``stratus up``)."""

from __future__ import annotations

from oslo_config import cfg

vnc = [
    cfg.BoolOpt("enabled", default=True, help="Give guests a VNC console (hypervisors that offer one)."),
    cfg.StrOpt("server_listen", default="127.0.0.1",
               help="Address the guests' VNC servers listen on, on the compute host."),
    cfg.StrOpt("server_proxyclient_address", default="127.0.0.1",
               help="Address of this compute host the console proxy connects to for its guests' VNC servers."),
    cfg.StrOpt("novncproxy_base_url", default="",
               help="URL of the noVNC page users get, the token appended as ?path=%3Ftoken%3D...; empty: "
               "http://<[console_proxy] host>:<port>/vnc_lite.html."),
]

serial_console = [
    cfg.BoolOpt("enabled", default=True, help="Give guests a serial console reachable through the proxy."),
    cfg.StrOpt("port_range", default="10000:20000",
               help="TCP ports (FIRST:LAST) of the compute host the guests' serial consoles listen on."),
    cfg.StrOpt("proxyclient_address", default="127.0.0.1",
               help="Address of this compute host the guests' serial consoles listen on and the proxy connects to."),
    cfg.StrOpt("base_url", default="",
               help="Websocket URL users get for a serial console, the token appended as ?token=...; empty: "
               "ws://<[console_proxy] host>:<port>/."),
]

console = [
    cfg.IntOpt("token_ttl", default=600, min=1,
               help="Seconds a console URL's token stays valid; it is also good for one connection only."),
]

console_proxy = [
    cfg.StrOpt("host", default="127.0.0.1", help="Address the console proxy listens on."),
    cfg.PortOpt("port", help="Port the console proxy listens on. Unset: 6080 for stratus console-proxy, a free "
                "port in stratus up."),
    cfg.StrOpt("web", default="/usr/share/novnc",
               help="Directory of the noVNC web client the proxy serves (Debian: novnc)."),
]

GROUPS = {"vnc": vnc, "serial_console": serial_console, "console": console, "console_proxy": console_proxy}


def register_opts(conf: cfg.ConfigOpts) -> None:
    for group, opts in GROUPS.items():
        conf.register_opts(opts, group=group)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return list(GROUPS.items())


def port_range(conf: cfg.ConfigOpts) -> tuple[int, int]:
    """``[serial_console] port_range`` as (first, last). :raises ValueError: not FIRST:LAST."""
    first, _, last = conf.serial_console.port_range.partition(":")
    low, high = int(first), int(last)
    if not 0 < low <= high < 65536:
        raise ValueError(f"[serial_console] port_range {conf.serial_console.port_range!r} is not FIRST:LAST")
    return low, high


def proxy_url(conf: cfg.ConfigOpts, scheme: str) -> str:
    """Where the console proxy answers, as users reach it."""
    port = conf.console_proxy.port or 6080
    return f"{scheme}://{conf.console_proxy.host}:{port}"
