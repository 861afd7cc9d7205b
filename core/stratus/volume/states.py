"""Volume and snapshot statuses, as Cinder names them, and which actions each allows."""

from __future__ import annotations

CREATING = "creating"
AVAILABLE = "available"
RESERVED = "reserved"
ATTACHING = "attaching"
IN_USE = "in-use"
DETACHING = "detaching"
ERROR = "error"
EXTENDING = "extending"
DELETING = "deleting"
ERROR_DELETING = "error_deleting"
ERROR_EXTENDING = "error_extending"
BACKING_UP = "backing-up"
RESTORING_BACKUP = "restoring-backup"
DOWNLOADING = "downloading"
UPLOADING = "uploading"
MAINTENANCE = "maintenance"
REVERTING = "reverting"
AWAITING_TRANSFER = "awaiting-transfer"
MANAGING = "managing"
ERROR_MANAGING = "error_managing"
UNMANAGING = "unmanaging"

VOLUME_STATUSES = frozenset({CREATING, AVAILABLE, RESERVED, ATTACHING, IN_USE, DETACHING, ERROR, EXTENDING,
                             DELETING, ERROR_DELETING, ERROR_EXTENDING, BACKING_UP, RESTORING_BACKUP,
                             DOWNLOADING, UPLOADING, MAINTENANCE, REVERTING, AWAITING_TRANSFER,
                             MANAGING, ERROR_MANAGING, UNMANAGING})
#: a volume in these may be deleted (Cinder's list, without cascade or force)
DELETABLE = frozenset({AVAILABLE, ERROR, ERROR_EXTENDING, ERROR_DELETING, ERROR_MANAGING})

DETACHED = "detached"
ATTACHED = "attached"
ATTACH_STATUSES = frozenset({DETACHED, ATTACHED, ATTACHING, DETACHING, RESERVED, "error_attaching",
                             "error_detaching"})

SNAPSHOT_CREATING = "creating"
SNAPSHOT_AVAILABLE = "available"
SNAPSHOT_DELETING = "deleting"
SNAPSHOT_ERROR = "error"
SNAPSHOT_ERROR_DELETING = "error_deleting"
SNAPSHOT_RESTORING = "restoring"
SNAPSHOT_STATUSES = frozenset({SNAPSHOT_CREATING, SNAPSHOT_AVAILABLE, SNAPSHOT_DELETING, SNAPSHOT_ERROR,
                               SNAPSHOT_ERROR_DELETING, "backing-up", "restoring", "unmanaging"})
SNAPSHOT_DELETABLE = frozenset({SNAPSHOT_AVAILABLE, SNAPSHOT_ERROR, SNAPSHOT_ERROR_DELETING})
