"""What a new cloud's compute service starts with: the standard flavors."""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from stratus.compute import models
from stratus.db.engine import Database, insert_unless_taken

#: (flavorid, name, MiB of RAM, vCPUs, GiB of disk), as DevStack makes them
STANDARD_FLAVORS = (
    ("1", "m1.tiny", 512, 1, 1),
    ("2", "m1.small", 2048, 1, 20),
    ("3", "m1.medium", 4096, 2, 40),
    ("4", "m1.large", 8192, 4, 80),
    ("5", "m1.xlarge", 16384, 8, 160),
    ("42", "m1.nano", 128, 1, 1),
    ("84", "m1.micro", 192, 1, 1),
)


def ensure_standard_flavors(db: Database) -> list[str]:
    """Create each standard flavor whose name and id are both free; return the names made."""
    made = []
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    with db.transaction() as session:
        for flavorid, name, ram, vcpus, disk in STANDARD_FLAVORS:
            taken = session.scalar(sa.select(models.Flavor.id).where(
                sa.or_(models.Flavor.name == name, models.Flavor.flavorid == flavorid)))
            if taken is None and insert_unless_taken(session, models.Flavor(
                    flavorid=flavorid, name=name, memory_mb=ram, vcpus=vcpus, root_gb=disk, ephemeral_gb=0, swap=0,
                    rxtx_factor=1.0, is_public=True, disabled=False, created_at=now)):
                made.append(name)
    return made
