"""The image service's collaborators: its database and the configured stores."""

from __future__ import annotations

from typing import Any

from stratus import loading
from stratus.db.engine import Database
from stratus.exceptions import ConfigError
from stratus.interfaces.image_store import ImageStore


class ImageService:
    """:raises ConfigError: ``default_store`` is not an enabled store.
    :raises DriverError: a store's driver does not load."""

    def __init__(self, conf: Any, db: Database | None = None) -> None:
        self.conf = conf
        self.db = db or Database.for_service(conf, "image")
        self.stores: dict[str, ImageStore] = {}
        for spec in conf.image.enabled_stores:
            name, _, driver = spec.partition(":")
            self.stores[name] = loading.load_driver("stratus.image_store", driver, conf, store_name=name)
        if conf.image.default_store not in self.stores:
            raise ConfigError(f"[image] default_store {conf.image.default_store!r} is not in [image] "
                              f"enabled_stores ({', '.join(self.stores) or 'none'})")

    def close(self) -> None:
        self.db.dispose()
