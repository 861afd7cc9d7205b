"""How the services reach each other: in-process or over their public REST APIs.

``[service_credentials]`` holds the keystoneauth options of the user the services act as
when they call each other over REST (as Nova's ``[neutron]``/``[glance]`` credentials
do): a user with the ``admin`` role in a service project. ``[identity_client]``,
``[image_client]``, ``[network_client]`` and ``[compute_client]`` each choose ``mode``:
``local`` (the service runs in this process on its own database connection) or ``rest``
(its public OpenStack API, found in the catalog or at ``endpoint_override``; upstream
Keystone, Glance, Neutron or Nova answer it as well as Stratus does).
"""

from __future__ import annotations

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from stratus import registry

CREDENTIALS = "service_credentials"

#: client group -> the catalog type its REST mode looks up (the services with a client)
CLIENTS = registry.clients()

_MODE = cfg.StrOpt(
    "mode", default="local",
    choices=[("local", "the service runs in this process (on its own [database] connection)"),
             ("rest", "its public REST API, with [service_credentials] and the caller's token")],
    help="How this process reaches the service.")

identity_opts = [
    cfg.IntOpt("token_cache_time", default=300, min=0,
               help="Seconds a validated token is trusted without asking the identity service again "
               "(revocations take effect within this time in rest mode); 0: no cache."),
    cfg.IntOpt("token_cache_size", default=10000, min=1, help="Validated tokens kept in the cache."),
]


#: listed for the sample (the password plugin's), registered by keystoneauth when it loads
#: the plugin ``auth_type`` names
SAMPLE_ONLY_OPTS = {CREDENTIALS: {o.dest for o in ks_loading.get_auth_plugin_conf_options("password")}}


image_opts = [
    cfg.ListOpt("direct_url_schemes", default=[],
                help="URL schemes (file, swift+https, ...) of image data a compute host reads straight from a "
                "store of its own [image] enabled_stores when the image service shows the image's `direct_url` "
                "([image] show_image_direct_url there); any other image, or a failed read, comes through the "
                "image API."),
]


def _adapter_opts() -> list[cfg.Opt]:
    return [o for o in ks_loading.get_adapter_conf_options(include_deprecated=False)
            if o.dest in ("region_name", "valid_interfaces", "endpoint_override", "connect_retries",
                          "status_code_retries")]


def register_opts(conf: cfg.ConfigOpts) -> None:
    ks_loading.register_session_conf_options(conf, CREDENTIALS)
    ks_loading.register_auth_conf_options(conf, CREDENTIALS)
    for group in CLIENTS:
        conf.register_opts([_MODE, *_adapter_opts()], group=group)
    conf.register_opts(identity_opts, group="identity_client")
    conf.register_opts(image_opts, group="image_client")


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    credentials = (ks_loading.get_session_conf_options() + ks_loading.get_auth_common_conf_options()
                   + ks_loading.get_auth_plugin_conf_options("password"))
    result: list[tuple[str | None, list[cfg.Opt]]] = [(CREDENTIALS, credentials)]
    for group in CLIENTS:
        extra = {"identity_client": identity_opts, "image_client": image_opts}.get(group, [])
        result.append((group, [_MODE, *_adapter_opts(), *extra]))
    return result


def auth_plugin_opt_names() -> set[str]:
    """Every option any installed keystoneauth plugin reads from ``[service_credentials]``."""
    names: set[str] = set()
    for loader in ks_loading.get_available_plugin_loaders().values():
        names |= {o.dest for o in loader.get_options()}
    return names
