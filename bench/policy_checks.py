"""Policy checks per second: Stratus's Policy beside oslo.policy used as its other consumers use
it (an Enforcer with use_conf, looking at the policy file and walking every registered rule on
each check), with the same rules (every service's defaults) and the same policy file.

    python bench/policy_checks.py [--checks 20000] [--no-policy-file]

Prints checks/s and the mean µs per check of each; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from oslo_policy import policy as oslo_policy

from stratus import conf as config
from stratus.api.policy import BASE_RULES, Policy, all_rules
from stratus.context import RequestContext

ACTIONS = ("os_compute_api:servers:show", "os_compute_api:servers:index", "image:get_image",
           "network:get_port", "identity:get_project")


def measure(check, checks: int) -> float:
    for _ in range(200):  # warm up
        check()
    start = time.perf_counter()
    for _ in range(checks):
        check()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=20000)
    parser.add_argument("--no-policy-file", action="store_true", help="measure without an operator policy file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        files = []
        if not args.no_policy_file:
            policy_file = os.path.join(work, "policy.yaml")
            with open(policy_file, "w") as f:
                f.write('"os_compute_api:os-hypervisors:list": "role:admin"\n')
            conf_file = os.path.join(work, "stratus.conf")
            with open(conf_file, "w") as f:
                f.write(f"[oslo_policy]\npolicy_file = {policy_file}\n")
            files = [conf_file]
        rules = all_rules()
        ours = Policy(config.build(files), [r for r in rules if r.name not in {b.name for b in BASE_RULES}])
        theirs = oslo_policy.Enforcer(config.build(files), use_conf=True)
        theirs.register_defaults(rules)
        context = RequestContext(user_id="u", project_id="p", roles=["member", "reader"])
        values = context.to_policy_values()
        target = {"project_id": "p"}
        counter = iter(range(10**9))

        def check_ours() -> None:
            ours.allows(context, ACTIONS[next(counter) % len(ACTIONS)], target)

        def check_theirs() -> None:
            theirs.authorize(ACTIONS[next(counter) % len(ACTIONS)], target, values, do_raise=False)

        ours_time = measure(check_ours, args.checks)
        theirs_time = measure(check_theirs, args.checks)
    print(f"policy checks: {len(rules)} registered rules, "
          f"{'no policy file' if args.no_policy_file else 'a one-rule policy file'}, {args.checks} checks each")
    for name, took in (("stratus Policy", ours_time), ("oslo.policy Enforcer(use_conf=True)", theirs_time)):
        print(f"  {name:38s} {args.checks / took:10.0f} checks/s  {took / args.checks * 1e6:7.1f} µs/check")


if __name__ == "__main__":
    main()
