"""Default policy rules of the identity API (overridable in the policy file)."""

from __future__ import annotations

from oslo_policy import policy

RULES = [
    policy.RuleDefault("token_subject", "user_id:%(token_user_id)s",
                       "The user the token in X-Subject-Token was issued to."),
    policy.DocumentedRuleDefault(
        "identity:validate_token", "rule:admin or rule:token_subject", "Validate a token.",
        [{"path": "/v3/auth/tokens", "method": "GET"}, {"path": "/v3/auth/tokens", "method": "HEAD"}]),
    policy.DocumentedRuleDefault(
        "identity:revoke_token", "rule:admin or rule:token_subject", "Revoke a token.",
        [{"path": "/v3/auth/tokens", "method": "DELETE"}]),
]
