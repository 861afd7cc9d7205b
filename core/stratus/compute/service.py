"""The compute service's collaborators in an API process: its database."""

from __future__ import annotations

from typing import Any

from stratus.db.engine import Database


class ComputeService:
    def __init__(self, conf: Any, db: Database | None = None) -> None:
        self.conf = conf
        self.db = db or Database.for_service(conf, "compute")

    def close(self) -> None:
        self.db.dispose()
