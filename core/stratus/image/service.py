"""The image service's collaborators: its database, the configured stores, the staging
area of the import flow and the threads that run imports."""

from __future__ import annotations

import concurrent.futures
from typing import Any

from stratus import loading
from stratus.conf.image import STAGING_STORE, STORE_OPTS
from stratus.db.engine import Database
from stratus.exceptions import ConfigError
from stratus.image.drivers.file import FileStore
from stratus.interfaces.image_store import ImageStore, ImageStoreCapability, WritableStore

#: the staging area is a file store of this name (as in Glance): ``[os_glance_staging_store] datadir``
STAGING = STAGING_STORE


class ImageService:
    """:raises ConfigError: ``default_store`` is not an enabled, writable store.
    :raises DriverError: a store's driver does not load."""

    def __init__(self, conf: Any, db: Database | None = None) -> None:
        self.conf = conf
        self.db = db or Database.for_service(conf, "image")
        self.stores: dict[str, ImageStore] = {}
        for spec in conf.image.enabled_stores:
            name, _, driver = spec.partition(":")
            conf.register_opts(STORE_OPTS, group=name)
            self.stores[name] = loading.load_driver("stratus.image_store", driver, conf, store_name=name)
        default = conf.image.default_store
        if default not in self.stores:
            raise ConfigError(f"[image] default_store {default!r} is not in [image] "
                              f"enabled_stores ({', '.join(self.stores) or 'none'})")
        if not self.writable(default):
            raise ConfigError(f"[image] default_store {default!r} is read-only; new images need a writable store")
        self.staging = FileStore(conf, STAGING)
        self.executor = concurrent.futures.ThreadPoolExecutor(conf.image.import_workers,
                                                              thread_name_prefix="image-import")

    def writable(self, name: str) -> bool:
        store = self.stores.get(name)
        return store is not None and ImageStoreCapability.WRITE in store.capabilities \
            and isinstance(store, WritableStore)

    def store_for_url(self, url: str) -> str | None:
        """The first enabled store whose schemes include ``url``'s."""
        scheme = url.split("://", 1)[0].lower()
        return next((name for name, store in self.stores.items() if scheme in store.schemes), None)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.db.dispose()
