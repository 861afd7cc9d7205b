"""Object versioning as Swift's ``versioned_writes`` middleware does it (its two legacy modes).

A container whose ``X-Versions-Location`` (stack mode) or ``X-History-Location`` (history
mode) names an archive container keeps, before each overwrite, the current object in the
archive as ``<3 hex digits: the name's length in bytes><name>/<its timestamp>`` (a
server-side copy). A DELETE in stack mode brings the newest archived version back in
place (and removes it from the archive), or deletes when there is none; in history mode it
archives the current object, adds a delete marker (``application/x-deleted;
swift_versions_deleted=1``) and deletes. The requester needs write access to the archive.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from stratus.exceptions import NotFound
from stratus.object_store.api.headers import x_timestamp
from stratus.object_store.errors import PreconditionFailed
from stratus.object_store.listing import Listing
from stratus.object_store.service import ContainerInfo, ObjectInfo, ObjectService

DELETE_MARKER = "application/x-deleted;swift_versions_deleted=1"


def prefix(name: str) -> str:
    return f"{len(name.encode()):03x}{name}/"


def archived_name(name: str, timestamp: float) -> str:
    return f"{prefix(name)}{x_timestamp(timestamp)}"


def _archive_container(service: ObjectService, account: str, container: ContainerInfo,
                       writable: Callable[[str, str], object]) -> str:
    location = container.versions_location or ""
    try:
        writable(account, location)
    except NotFound:
        raise PreconditionFailed(f"The versions container {location} does not exist") from None
    return location


def archive_current(service: ObjectService, account: str, container: ContainerInfo, name: str,
                    writable: Callable[[str, str], object]) -> None:
    """Before ``name`` is overwritten: keep the current object in the archive (if versioned)."""
    if not container.versions_location:
        return
    try:
        current = service.head_object(account, container.name, name)
    except NotFound:
        return
    location = _archive_container(service, account, container, writable)
    service.copy_object(current, account, location, archived_name(name, current.timestamp),
                        content_type=current.content_type, headers=current.headers, delete_at=current.delete_at)


def delete(service: ObjectService, account: str, container: ContainerInfo, name: str,
           writable: Callable[[str, str], object]) -> bool:
    """Delete ``name`` of a versioned container the way its mode says; False when not versioned
    (the caller deletes as usual).

    :raises NotFound: nothing to delete and nothing to restore.
    """
    if not container.versions_location:
        return False
    location = _archive_container(service, account, container, writable)
    if container.versions_mode == "history":
        archive_current(service, account, container, name, writable)
        service.put_object(account, location, archived_name(name, time.time()), [], content_type=DELETE_MARKER,
                           headers={})
        service.delete_object(account, container.name, name)
        return True
    _, newest = service.list_objects(account, location, Listing(prefix=prefix(name), reverse=True, limit=1))
    if not newest:
        service.delete_object(account, container.name, name)
        return True
    version = newest[0]
    assert isinstance(version, ObjectInfo)
    if version.content_type == DELETE_MARKER:  # left by history mode: nothing to bring back
        service.delete_object(account, location, version.name)
        service.delete_object(account, container.name, name)
        return True
    service.copy_object(version, account, container.name, name, content_type=version.content_type,
                        headers=version.headers, delete_at=version.delete_at)
    service.delete_object(account, location, version.name)
    return True
