"""Options of the ``[token]`` group: token lifetime, signing keys, revocation."""

from __future__ import annotations

from oslo_config import cfg

GROUP = "token"

opts = [
    cfg.IntOpt("expiration", default=3600, min=60, help="Seconds a token stays valid after it is issued."),
    cfg.StrOpt(
        "key_repository",
        default="$state_path/token-keys",
        help="Directory of the keys that encrypt tokens. Every API host needs the same keys: "
        "rotate with `stratus manage token-keys rotate` on one host and copy the directory.",
    ),
    cfg.IntOpt(
        "max_active_keys",
        default=3,
        min=2,
        help="Keys kept by rotation: the primary, the staged next one, and older ones that still "
        "validate tokens issued before a rotation. Rotate less often than expiration allows.",
    ),
    cfg.IntOpt(
        "revocation_cache_time",
        default=30,
        min=1,
        help="Seconds between reloads of the revocation list from the database. A revocation made "
        "by this process applies at once; one made by another process applies within this time.",
    ),
    cfg.IntOpt(
        "allow_expired_window",
        default=172800,
        min=0,
        help="Seconds after expiry during which a service may still validate a token with "
        "?allow_expired=1 (for long-running operations).",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
