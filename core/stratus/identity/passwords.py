"""Password hashing with Argon2id, stored in the PHC string format.

``$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`` (unpadded base64): the parameters
travel with each hash, so raising the cost later leaves old hashes verifiable. Passwords
are never logged; verification compares in constant time.
"""

from __future__ import annotations

import base64
import hmac
import os

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from stratus.exceptions import Invalid

_VERSION = 19
_HASH_LENGTH = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, memory_cost: int, time_cost: int, lanes: int) -> bytes:
    kdf = Argon2id(salt=salt, length=_HASH_LENGTH, iterations=time_cost, lanes=lanes, memory_cost=memory_cost)
    return kdf.derive(password.encode("utf-8"))


def hash_password(password: str, memory_cost: int = 19456, time_cost: int = 2, max_length: int = 4096) -> str:
    """Return the PHC string of ``password``. :raises Invalid: empty or longer than ``max_length``."""
    if not password:
        raise Invalid("The password must not be empty.")
    if len(password) > max_length:
        raise Invalid(f"The password is longer than {max_length} characters.")
    salt = os.urandom(16)
    digest = _derive(password, salt, memory_cost, time_cost, 1)
    return f"$argon2id$v={_VERSION}$m={memory_cost},t={time_cost},p=1${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str | None) -> bool:
    """True when ``password`` matches ``encoded``; a missing or malformed hash never matches.

    With ``encoded`` None the same work is done against a dummy hash, so a caller cannot
    tell an unknown user from a wrong password by timing.
    """
    target = encoded or _DUMMY
    try:
        _, algorithm, version, params, salt, digest = target.split("$")
        settings = dict(item.split("=") for item in params.split(","))
        if algorithm != "argon2id" or version != f"v={_VERSION}":
            return False
        derived = _derive(password, _unb64(salt), int(settings["m"]), int(settings["t"]), int(settings["p"]))
    except (ValueError, KeyError):
        return False
    return hmac.compare_digest(derived, _unb64(digest)) and encoded is not None


_DUMMY = hash_password("not a password: only spends the time a real check takes")
