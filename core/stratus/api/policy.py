"""Policy enforcement (oslo.policy): defaults in code, overrides from a YAML file.

Each service lists its rules as ``oslo_policy.policy.RuleDefault``/``DocumentedRuleDefault``
objects; :class:`Policy` registers them and answers :meth:`Policy.authorize`. Denials
become :class:`~stratus.exceptions.Forbidden` (403) with the action's name, as Nova says it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import falcon
from oslo_policy import policy as oslo_policy

from stratus import registry
from stratus.context import RequestContext
from stratus.exceptions import Forbidden, NotAuthenticated

#: rules every service can refer to with ``rule:NAME``
BASE_RULES = [
    oslo_policy.RuleDefault("admin", "role:admin", "Cloud administrators (the admin role is cloud-wide)."),
    oslo_policy.RuleDefault("project_member", "role:member and project_id:%(project_id)s",
                            "Members of the project that owns the target."),
    oslo_policy.RuleDefault("project_reader", "role:reader and project_id:%(project_id)s",
                            "Readers of the project that owns the target."),
    oslo_policy.RuleDefault("admin_or_member", "rule:admin or rule:project_member",
                            "Administrators, or members of the owning project."),
    oslo_policy.RuleDefault("admin_or_reader", "rule:admin or rule:project_member or rule:project_reader",
                            "Anyone who may read the owning project's resources."),
]


class Policy:
    def __init__(self, conf: Any, rules: Iterable[oslo_policy.RuleDefault] = ()) -> None:
        self.enforcer = oslo_policy.Enforcer(conf, use_conf=True)
        self.enforcer.register_defaults(BASE_RULES)
        self.enforcer.register_defaults(list(rules))

    def authorize(self, context: RequestContext, action: str, target: Mapping[str, Any] | None = None) -> None:
        """Allow or raise.

        ``target`` describes the resource (at least its ``project_id``); when omitted it is
        the caller's own project, which is right for creating and listing.

        :raises NotAuthenticated: anonymous context.
        :raises Forbidden: the rule denies it.
        """
        if not context.is_authenticated:
            raise NotAuthenticated("The request you have made requires authentication.")
        target = dict(target) if target is not None else {"project_id": context.project_id}
        try:
            self.enforcer.authorize(action, target, context.to_policy_values(), do_raise=True)
        except oslo_policy.PolicyNotAuthorized:
            raise Forbidden(f"Policy doesn't allow {action} to be performed.") from None

    def allows(self, context: RequestContext, action: str, target: Mapping[str, Any] | None = None) -> bool:
        """Whether :meth:`authorize` would allow ``action`` (to show or hide optional fields)."""
        try:
            self.authorize(context, action, target)
        except (Forbidden, NotAuthenticated):
            return False
        return True


#: modules whose ``RULES`` list a service's default policy (from the registry)
RULE_MODULES = registry.policy_modules()


def all_rules() -> list[oslo_policy.RuleDefault]:
    import importlib

    rules = list(BASE_RULES)
    for name in RULE_MODULES:
        rules += importlib.import_module(name).RULES
    return rules


def sample_yaml(rules: Iterable[oslo_policy.RuleDefault]) -> str:
    """A policy file listing every default, commented out, with its description and API calls.

    Uncomment and change a line to override that rule; rules left commented keep the default.
    """
    lines = ["# Stratus policy defaults. Uncomment a rule to override it; see [oslo_policy] policy_file.", ""]
    for rule in rules:
        lines += [f"# {line}" for line in (rule.description or "").splitlines()]
        for operation in getattr(rule, "operations", None) or []:
            lines.append(f"# {operation['method']:<7}{operation['path']}")
        lines += [f'#"{rule.name}": "{rule.check_str}"', ""]
    return "\n".join(lines)


def enforce(req: falcon.Request, policy: Policy, action: str, target: Mapping[str, Any] | None = None) -> None:
    """Authorize ``action`` for the request's context (set by the auth middleware)."""
    policy.authorize(req.context.stratus, action, target)
