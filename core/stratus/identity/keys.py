"""The token key repository: a directory of Fernet keys, rotated as Keystone rotates them.

Files are named by integers. ``0`` is the *staged* key: not used yet, but already known
to every host that has the directory, so it can become primary on any host first. The
highest number is the *primary* key, which encrypts new tokens; the others are
*secondary* keys, kept only to decrypt tokens issued before a rotation. Rotation turns
the staged key into the new primary, stages a fresh key, and drops the oldest secondary
keys beyond ``max_active_keys``.
"""

from __future__ import annotations

import logging
import os
import tempfile

from cryptography.fernet import Fernet, MultiFernet

from stratus.exceptions import ConfigError

LOG = logging.getLogger(__name__)


class KeyRepository:
    def __init__(self, path: str, max_active_keys: int = 3) -> None:
        self.path = path
        self.max_active_keys = max_active_keys

    def _indexes(self) -> list[int]:
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        return sorted(int(name) for name in names if name.isdigit())

    def _write(self, index: int, key: bytes) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.path, prefix=".key-")
        try:
            os.fchmod(handle, 0o600)
            os.write(handle, key)
            os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temporary, os.path.join(self.path, str(index)))

    def exists(self) -> bool:
        return bool(self._indexes())

    def setup(self) -> bool:
        """Create the repository with a staged and a primary key; False if it already had keys."""
        if self.exists():
            return False
        os.makedirs(self.path, mode=0o700, exist_ok=True)
        self._write(0, Fernet.generate_key())
        self.rotate()
        return True

    def rotate(self) -> int:
        """Promote the staged key to primary, stage a new one, prune; return the new primary's index."""
        indexes = self._indexes()
        if 0 not in indexes:
            raise ConfigError(f"[token] key_repository {self.path} has no staged key 0; run "
                              "`stratus manage token-keys setup`")
        new_primary = max(indexes) + 1
        os.replace(os.path.join(self.path, "0"), os.path.join(self.path, str(new_primary)))
        self._write(0, Fernet.generate_key())
        secondaries = [i for i in self._indexes() if i not in (0, new_primary)]
        for index in secondaries[: max(0, len(secondaries) - (self.max_active_keys - 2))]:
            os.remove(os.path.join(self.path, str(index)))
        LOG.info("token keys rotated: primary is now %d", new_primary)
        return new_primary

    def load(self) -> MultiFernet:
        """A MultiFernet encrypting with the primary key and decrypting with every key.

        :raises ConfigError: the repository is missing or holds no usable key.
        """
        indexes = self._indexes()
        if len(indexes) < 2:
            raise ConfigError(f"[token] key_repository {self.path} has no keys; run `stratus manage token-keys setup`")
        keys = []
        for index in sorted(indexes, key=lambda i: (i == 0, -i)):  # primary first, staged last
            with open(os.path.join(self.path, str(index)), "rb") as f:
                try:
                    keys.append(Fernet(f.read().strip()))
                except ValueError as exc:
                    raise ConfigError(f"token key {self.path}/{index} is not a Fernet key: {exc}") from None
        return MultiFernet(keys)

    def version(self) -> float:
        """Changes whenever rotation changes the directory (its modification time)."""
        try:
            return os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return 0
