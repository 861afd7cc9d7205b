"""Options of the ``[ldap]`` group (the ``oslo.config.opts`` entry point ``stratus.ldap``)."""

from __future__ import annotations

from oslo_config import cfg

GROUP = "ldap"

opts = [
    cfg.StrOpt("url", default="ldap://localhost", help="Directory URL(s), comma-separated for fail-over: "
               "ldap://host:389 or ldaps://host:636."),
    cfg.StrOpt("user", help="DN to bind as for searches; anonymous when unset."),
    cfg.StrOpt("password", secret=True, help="Password of the search DN."),
    cfg.StrOpt("suffix", default="dc=example,dc=com", help="Base DN of the directory."),
    cfg.StrOpt("domain_id", default="default", help="Stratus domain the directory's users and groups belong to."),
    cfg.StrOpt("query_scope", default="one", choices=["one", "sub"],
               help="Search only the tree's immediate children (one) or its whole subtree (sub)."),
    cfg.IntOpt("page_size", default=500, min=0, help="Entries per page of paged searches; 0 disables paging."),
    cfg.IntOpt("connection_timeout", default=10, min=1, help="Seconds to wait when connecting to the directory."),
    cfg.StrOpt("user_tree_dn", help="Where users are (default: ou=Users,<suffix>)."),
    cfg.StrOpt("user_filter", help="Extra LDAP filter users must match, e.g. (memberOf=cn=cloud,ou=groups,...)."),
    cfg.StrOpt("user_objectclass", default="inetOrgPerson", help="Object class of user entries."),
    cfg.StrOpt("user_id_attribute", default="uid", help="Attribute holding the user ID (at most 64 characters)."),
    cfg.StrOpt("user_name_attribute", default="uid", help="Attribute holding the user name."),
    cfg.StrOpt("user_mail_attribute", default="mail", help="Attribute holding the e-mail address."),
    cfg.StrOpt("user_description_attribute", default="description", help="Attribute holding the description."),
    cfg.StrOpt("user_enabled_attribute", help="Attribute telling whether a user is enabled; unset: all are."),
    cfg.IntOpt("user_enabled_mask", default=0, min=0,
               help="When non-zero, the enabled attribute is an integer and this bit means disabled "
               "(Active Directory's userAccountControl uses 2)."),
    cfg.BoolOpt("user_enabled_invert", default=False,
                help="The enabled attribute is true when the user is disabled (e.g. nsAccountLock)."),
    cfg.StrOpt("group_tree_dn", help="Where groups are (default: ou=Groups,<suffix>)."),
    cfg.StrOpt("group_filter", help="Extra LDAP filter groups must match."),
    cfg.StrOpt("group_objectclass", default="groupOfNames", help="Object class of group entries."),
    cfg.StrOpt("group_id_attribute", default="cn", help="Attribute holding the group ID."),
    cfg.StrOpt("group_name_attribute", default="cn", help="Attribute holding the group name."),
    cfg.StrOpt("group_member_attribute", default="member", help="Attribute listing member DNs."),
    cfg.StrOpt("group_description_attribute", default="description", help="Attribute holding the description."),
    cfg.BoolOpt("use_tls", default=False, help="Upgrade ldap:// connections with StartTLS."),
    cfg.StrOpt("tls_cacertfile", help="CA certificates (PEM) to verify the directory's certificate."),
    cfg.StrOpt("tls_req_cert", default="demand", choices=["demand", "allow", "never"],
               help="Whether the directory's certificate must verify (demand), may fail (allow), or is "
               "not checked (never: testing only)."),
]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, opts)]
