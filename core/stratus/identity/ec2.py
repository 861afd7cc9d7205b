"""Signatures made with EC2 credentials, checked as Keystone's ``/v3/s3tokens`` checks them
for an S3 endpoint (Swift's s3token middleware, Ceph's RADOS gateway): the endpoint builds
the string to sign from the request it received and sends it with the access key and the
signature; identity finds the secret, signs the same string and, when the signatures match,
issues a token scoped to the credential's project.

AWS Signature Version 4 (``AWS4-HMAC-SHA256``: the signing key derived from the secret and the
string's credential scope) and version 2 (HMAC-SHA1, base64) are accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from stratus.exceptions import NotAuthenticated
from stratus.identity import models
from stratus.identity.tokens import TokenData

SIGNATURE_MISMATCH = "The request signature does not match the one computed with the credential's secret."


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def sign(secret: str, string_to_sign: str) -> str:
    """The signature of ``string_to_sign`` with ``secret``, in the version the string is for."""
    if string_to_sign.startswith("AWS4-HMAC-SHA256\n"):
        lines = string_to_sign.split("\n")
        if len(lines) != 4 or lines[2].count("/") != 3:
            raise NotAuthenticated("The string to sign is not an AWS4-HMAC-SHA256 one.")
        date, region, service, terminator = lines[2].split("/")
        key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), terminator)
        return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()


def issue(identity: Any, access: str, string_to_sign: str, signature: str) -> tuple[str, TokenData]:
    """A token for the owner of ``access`` when ``signature`` signs ``string_to_sign`` with its secret.

    :raises NotAuthenticated: unknown key, wrong signature, disabled user or project, no role.
    """
    if not (access.isascii() and signature.isascii()):  # keys and signatures are ASCII; anything else is wrong
        raise NotAuthenticated(SIGNATURE_MISMATCH)
    with identity.db.reading() as session:
        row = session.get(models.Credential, hashlib.sha256(access.encode()).hexdigest())
    if row is None or row.type != "ec2" or not row.project_id:
        raise NotAuthenticated("The access key is not known.")
    blob = json.loads(identity.credential_cipher().decrypt(row.encrypted_blob.encode()).decode())
    if blob.get("access") != access or not hmac.compare_digest(sign(str(blob.get("secret", "")), string_to_sign),
                                                                 signature):
        raise NotAuthenticated(SIGNATURE_MISMATCH)
    return identity.authenticator.issue_for_project(row.user_id, row.project_id, ["ec2credential"])
