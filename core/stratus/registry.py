"""The services Stratus is made of, listed once.

Each entry says what the service has: an API app (``<package>.api``), tables
(``<package>.models`` and ``<package>/migrations``), policy rules (``<package>.policies``),
a client other services reach it through (``<package>.client``, in-process or REST as
``[<name>_client] mode`` says) and, when its API is served, its catalog entry. The composite app, the migrations, the
policy defaults, the bootstrap's catalog and the embedded cloud's banner all read this
list, so a new service (block storage, object storage) is added here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Catalog:
    """How the service is listed in the catalog (and announced by ``stratus up``)."""

    type: str
    name: str
    path: str  # below the public URL, as the catalog lists it
    announced: str  # below the public URL, as the banner shows it (the versioned root)
    #: (type, name) of further catalog entries at the same endpoints, for clients that look
    #: the service up by an older type (``volumev3``)
    aliases: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    api: bool = True
    tables: bool = True
    policies: bool = True
    client: bool = False
    catalog: Catalog | None = None
    #: further API modules of the package, each its own app under its own prefix (``s3``)
    extra_apis: tuple[str, ...] = ()

    def api_modules(self) -> tuple[str, ...]:
        return (f"{self.package}.api", *(f"{self.package}.{name}" for name in self.extra_apis)) if self.api else ()


#: in catalog order (the composite app mounts them in this order)
SERVICES: tuple[Service, ...] = (
    Service("servicegroup", "stratus.servicegroup", api=False, policies=False),
    Service("identity", "stratus.identity", client=True,
            catalog=Catalog("identity", "keystone", "/identity", "/identity/v3")),
    Service("compute", "stratus.compute", client=True,
            catalog=Catalog("compute", "nova", "/compute/v2.1", "/compute/v2.1")),
    Service("image", "stratus.image", client=True, catalog=Catalog("image", "glance", "/image", "/image")),
    Service("volume", "stratus.volume", client=True,
            catalog=Catalog("block-storage", "cinder", "/volume/v3/$(project_id)s", "/volume/v3",
                            aliases=(("volumev3", "cinderv3"),))),
    Service("network", "stratus.network", client=True, catalog=Catalog("network", "neutron", "/network", "/network")),
    Service("object_store", "stratus.object_store", policies=False, extra_apis=("s3",),
            catalog=Catalog("object-store", "swift", "/object-store/v1/AUTH_$(project_id)s", "/object-store/v1")),
)


def api_modules() -> tuple[str, ...]:
    return tuple(module for s in SERVICES for module in s.api_modules())


def table_packages() -> dict[str, str]:
    """Service name -> the package holding its models and migrations."""
    return {s.name: s.package for s in SERVICES if s.tables}


def policy_modules() -> tuple[str, ...]:
    return tuple(f"{s.package}.policies" for s in SERVICES if s.policies)


def clients() -> dict[str, str]:
    """``<name>_client`` option group -> the catalog type its REST mode looks up."""
    return {f"{s.name}_client": s.catalog.type for s in SERVICES if s.client and s.catalog is not None}


def catalog() -> tuple[Catalog, ...]:
    return tuple(s.catalog for s in SERVICES if s.catalog is not None)
