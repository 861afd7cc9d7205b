"""The metadata definitions Stratus ships (``*.json`` here, written for Stratus): what its
scheduler and image service read from images and aggregates, and the common descriptive
image properties. :func:`load` puts them in the image database once; an operator's edits
to a loaded namespace are kept (a namespace already present is left alone).

Loaded by ``stratus manage metadefs load`` and by the embedded cloud at start.
"""

from __future__ import annotations

import datetime
import json
from importlib import resources
from typing import Any

import sqlalchemy as sa

from stratus.db.engine import Database
from stratus.image import models

#: the resource types namespaces apply to, as OpenStack names them
RESOURCE_TYPES = ("OS::Glance::Image", "OS::Nova::Flavor", "OS::Nova::Server", "OS::Nova::Aggregate",
                  "OS::Cinder::Volume")


def definitions() -> list[dict[str, Any]]:
    """The shipped namespaces, each as a ``POST /v2/metadefs/namespaces`` body."""
    folder = resources.files(__name__)
    return [json.loads(entry.read_text()) for entry in sorted(folder.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".json")]


def load(db: Database, owner: str = "admin") -> list[str]:
    """Create the resource types and the shipped namespaces that are missing; the names made."""
    from stratus.image.api.metadefs import add_contents  # the API's checks and rows, one place

    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)
    made = []
    with db.transaction() as session:
        known = set(session.scalars(sa.select(models.MetadefResourceType.name)))
        session.add_all(models.MetadefResourceType(name=name, protected=True, created_at=now, updated_at=now)
                        for name in RESOURCE_TYPES if name not in known)
        session.flush()
        present = set(session.scalars(sa.select(models.MetadefNamespace.namespace)))
        for body in definitions():
            if body["namespace"] in present:
                continue
            row = models.MetadefNamespace(namespace=body["namespace"], display_name=body.get("display_name"),
                                          description=body.get("description"),
                                          visibility=body.get("visibility", "public"),
                                          protected=body.get("protected", True), owner=owner,
                                          created_at=now, updated_at=now)
            session.add(row)
            session.flush()
            add_contents(session, row, body)
            made.append(body["namespace"])
    return made
