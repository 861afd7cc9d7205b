"""``stratus-ovs-agent --config-file stratus.conf``: run this host's agent until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from stratus import conf as config
from stratus.exceptions import StratusError
from stratus_ovs.agent import Agent
from stratus_ovs.opts import register_opts


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    import argparse

    parser = argparse.ArgumentParser(prog="stratus-ovs-agent", description=__doc__)
    parser.add_argument("--config-file", action="append", required=True, help="stratus.conf (repeatable)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        conf = config.build(args.config_file)
        register_opts(conf)
        config.validate(conf)
        agent = Agent(conf)
        agent.start()
    except StratusError as exc:
        print(f"stratus-ovs-agent: {exc}", file=sys.stderr)
        return 1
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    print(f"stratus-ovs-agent serving host {agent.host}", flush=True)
    stopped.wait()
    agent.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
