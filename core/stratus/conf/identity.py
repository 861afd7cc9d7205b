"""Options of the ``[identity]`` group: where users live and how passwords are kept."""

from __future__ import annotations

from oslo_config import cfg

from stratus.conf.types import DriverName

GROUP = "identity"

opts = [
    cfg.Opt(
        "driver",
        type=DriverName("stratus.auth"),
        default="sql",
        help="Auth backend holding users and groups (an entry point in stratus.auth): sql "
        "(in the core) or, with its package installed, ldap. Projects, roles and assignments "
        "stay in SQL whichever backend is chosen.",
    ),
    cfg.StrOpt("default_domain_id", default="default", help="ID of the domain created by bootstrap."),
    cfg.StrOpt("region_name", default="RegionOne", help="Region of the catalog entries bootstrap creates."),
    cfg.IntOpt("cache_time", default=600, min=0,
               help="Seconds the users, projects, domains and catalogs token documents are made of are kept "
               "between requests (any change committed through Stratus drops them at once in every process; "
               "an LDAP directory's own changes show within this time); 0: read them for every token."),
    cfg.IntOpt("list_limit", default=1000, min=1, help="Most entities one list call returns."),
    cfg.IntOpt("max_password_length", default=4096, min=8,
               help="Longest password accepted (a hash of a huge password is a denial of service)."),
    cfg.IntOpt("argon2_memory_cost", default=19456, min=1024,
               help="Argon2id memory cost in KiB for password hashes (OWASP's 2023 minimum: 19456)."),
    cfg.IntOpt("argon2_time_cost", default=2, min=1, help="Argon2id iterations for password hashes."),
    cfg.StrOpt("credential_key_repository", default="$state_path/credential-keys",
               help="Directory of the keys that encrypt stored credentials (/v3/credentials, EC2 keys); create it "
               "with `stratus manage credential-keys setup` and give every API host the same copy. Unlike token "
               "keys these are not rotated away: a key that encrypted a credential must stay."),
    cfg.BoolOpt("domain_specific_drivers_enabled", default=True,
                help="Let a domain keep its users and groups in a backend of its own, named by its configuration "
                "(PUT /v3/domains/{id}/config: [identity] driver and [ldap] options). Off: every domain uses "
                "[identity] driver and domain configurations are stored without effect, as Keystone's default."),
    cfg.ListOpt("prohibited_implied_role", default=["admin"],
                help="Roles no other role may imply (403 on PUT /v3/roles/{prior}/implies/{implied})."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(opts, group=GROUP)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    return [(GROUP, opts)]
