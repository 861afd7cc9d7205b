"""A throwaway slapd on 127.0.0.1 for the tests: its own port, config and database."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time

SLAPD = "/usr/sbin/slapd"
SUFFIX = "dc=example,dc=org"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "admin-secret"


def ssha(password: str) -> str:
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt, usedforsecurity=False).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> str | None:
    return None if os.path.exists(SLAPD) else f"{SLAPD} is not installed (Debian packages slapd and ldap-utils)"


def make_certificates(directory: str) -> tuple[str, str, str]:
    """A throwaway CA and a server certificate for 127.0.0.1; returns (ca, cert, key) paths."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stratus test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = tuple(os.path.join(directory, name) for name in ("ca.pem", "server.pem", "server.key"))
    with open(paths[0], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[2], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))
    os.chmod(paths[2], 0o600)
    return paths


class Slapd:
    def __init__(self, base: str, tls: bool = False) -> None:
        self.base = base
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.ldaps_url = None
        os.makedirs(os.path.join(base, "db"))
        self.pid_file = os.path.join(base, "slapd.pid")
        tls_lines = ""
        if tls:
            self.ca_file, cert, key = make_certificates(base)
            self.ldaps_url = f"ldaps://127.0.0.1:{free_port()}"
            tls_lines = f"TLSCACertificateFile {self.ca_file}\nTLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\n"
        with open(os.path.join(base, "slapd.conf"), "w") as f:
            f.write(tls_lines + f"""include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile {self.pid_file}
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 104857600
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ssha(ADMIN_PASSWORD)}
directory {os.path.join(base, 'db')}
index objectClass eq
index uid,cn,member eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
""")

    def start(self) -> None:
        listen = f"{self.url}/" + (f" {self.ldaps_url}/" if self.ldaps_url else "")
        subprocess.run([SLAPD, "-f", os.path.join(self.base, "slapd.conf"), "-h", listen], check=True,
                       capture_output=True, timeout=30)
        import ldap3

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                ldap3.Connection(self.url, ADMIN_DN, ADMIN_PASSWORD, auto_bind=True).unbind()
                return
            except Exception:  # not answering yet
                time.sleep(0.05)
        raise RuntimeError("slapd did not start")

    def load(self, entries: list[tuple[str, dict]]) -> None:
        import ldap3

        connection = ldap3.Connection(self.url, ADMIN_DN, ADMIN_PASSWORD, auto_bind=True, raise_exceptions=True)
        try:
            for dn, attributes in entries:
                attributes = dict(attributes)
                classes = attributes.pop("objectClass")
                connection.add(dn, classes, attributes)
        finally:
            connection.unbind()

    def stop(self) -> None:
        try:
            with open(self.pid_file) as f:
                pid = int(f.read().strip())
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.05)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
        shutil.rmtree(self.base, ignore_errors=True)


def conformance_entries() -> list[tuple[str, dict]]:
    """The conformance kit's auth dataset as directory entries."""
    people, groups = f"ou=people,{SUFFIX}", f"ou=groups,{SUFFIX}"
    entries = [
        (SUFFIX, {"objectClass": ["dcObject", "organization"], "o": "Example", "dc": "example"}),
        (people, {"objectClass": ["organizationalUnit"], "ou": "people"}),
        (groups, {"objectClass": ["organizationalUnit"], "ou": "groups"}),
    ]
    for name, password, enabled in (("conformance-alice", "alice-secret-1", "TRUE"),
                                    ("conformance-bob", "bob-secret-2", "FALSE"),
                                    ("conformance-carol", "carol-secret-3", "TRUE")):
        entries.append((f"uid={name},{people}", {
            "objectClass": ["inetOrgPerson"], "uid": name, "cn": name, "sn": name.split("-")[1],
            "mail": f"{name}@example.org", "employeeType": enabled, "userPassword": ssha(password),
        }))
    entries.append((f"uid=admin,{people}", {
        "objectClass": ["inetOrgPerson"], "uid": "admin", "cn": "admin", "sn": "admin", "employeeType": "TRUE",
        "userPassword": ssha("ldap-admin-pw"),
    }))
    entries.append((f"cn=conformance-devs,{groups}", {
        "objectClass": ["groupOfNames"], "cn": "conformance-devs", "member": f"uid=conformance-alice,{people}",
    }))
    return entries


def stratus_conf(path: str, url: str, state: str) -> str:
    with open(path, "w") as f:
        f.write(f"""[DEFAULT]
state_path = {state}
[identity]
driver = ldap
[ldap]
url = {url}
user = {ADMIN_DN}
password = {ADMIN_PASSWORD}
suffix = {SUFFIX}
user_tree_dn = ou=people,{SUFFIX}
group_tree_dn = ou=groups,{SUFFIX}
user_enabled_attribute = employeeType
""")
    return path
