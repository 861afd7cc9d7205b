"""Policy enforcement (oslo.policy): defaults in code, overrides from a YAML file.

Each service lists its rules as ``oslo_policy.policy.RuleDefault``/``DocumentedRuleDefault``
objects; :class:`Policy` registers them and answers :meth:`Policy.authorize`. Denials
become :class:`~stratus.exceptions.Forbidden` (403) with the action's name, as Nova says it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
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


def _frozen(value: Any) -> Any:
    """``value`` as a dictionary key (dicts and lists as sorted/ordered tuples).

    :raises TypeError: something in it cannot be hashed."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    hash(value)
    return value


class Policy:
    """The rules in code with the operator's policy file over them.

    oslo.policy looks for the policy file and policy directories (and walks every registered
    rule) on each check; here that happens once, and then again at most every
    ``[api] policy_reload_interval`` seconds, so a check touches no file system and an edited
    policy file still takes effect within that time. A decision depends only on the rules,
    the action, the target and the caller's credentials, so the last ``DECISIONS`` of them are
    kept (dropped whenever the rules are loaded again): oslo.policy inspects each rule's
    signature on every evaluation, most of a check's cost.
    """

    DECISIONS = 4096

    def __init__(self, conf: Any, rules: Iterable[oslo_policy.RuleDefault] = ()) -> None:
        self.enforcer = oslo_policy.Enforcer(conf, use_conf=True)
        self.enforcer.register_defaults(BASE_RULES)
        self.enforcer.register_defaults(list(rules))
        self.interval = conf.api.policy_reload_interval
        self._lock = threading.Lock()
        self._loaded = -math.inf
        self._decisions: OrderedDict[Any, bool] = OrderedDict()

    def _rules(self) -> None:
        now = time.monotonic()
        if now - self._loaded < self.interval:
            return
        with self._lock:
            if now - self._loaded < self.interval:
                return
            self.enforcer.use_conf = True
            try:
                self.enforcer.load_rules()
            finally:
                self.enforcer.use_conf = False  # the checks in between read the rules in memory
            self._decisions.clear()
            self._loaded = time.monotonic()

    def _allowed(self, action: str, target: dict[str, Any], credentials: dict[str, Any]) -> bool:
        try:
            key = (action, _frozen(target), _frozen(credentials))
        except TypeError:  # a value that cannot be a key: decide without remembering
            key = None
        if key is not None:
            with self._lock:
                found = self._decisions.get(key)
                if found is not None:
                    self._decisions.move_to_end(key)
                    return found
        allowed = bool(self.enforcer.authorize(action, target, credentials, do_raise=False))
        if key is not None:
            with self._lock:
                self._decisions[key] = allowed
                if len(self._decisions) > self.DECISIONS:
                    self._decisions.popitem(last=False)
        return allowed

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
        self._rules()
        if not self._allowed(action, target, context.to_policy_values()):
            raise Forbidden(f"Policy doesn't allow {action} to be performed.")

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
