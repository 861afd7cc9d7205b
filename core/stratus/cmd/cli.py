"""``stratus``: one command, many subcommands.

Errors an operator can fix (bad configuration, unknown driver, unreachable database)
print one message naming the problem and exit non-zero; they never show a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from stratus import __version__
from stratus.exceptions import ConfigError, StratusError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stratus", description="Stratus, an OpenStack-compatible cloud.")
    parser.add_argument("--version", action="version", version=f"stratus {__version__}")
    parser.add_argument("--config-file", action="append", dest="config_files", metavar="PATH",
                        help="configuration file to read (repeatable; later files win). Default: "
                             "~/.stratus/stratus.conf, /etc/stratus/stratus.conf, as oslo.config searches")
    parser.add_argument("--debug", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    up = sub.add_parser("up", help="run the embedded cloud (every service in one process)")
    up.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    up.add_argument("--port", type=int, default=8770, help="port to bind; 0 picks a free one (default 8770)")
    up.add_argument("--data-dir", help="directory for the SQLite database and state "
                                       "(default: the user's data directory)")
    up.add_argument("--no-defaults", action="store_true",
                    help="do not create the default network and image for the admin project")
    up.add_argument("--hypervisor", metavar="NAME",
                    help="hypervisor driver of the compute host: fake (default), or with stratus-libvirt installed "
                         "kvm, qemu (emulation) or xen; the same as [compute] hypervisor")

    api = sub.add_parser("api", help="serve the composite API with gunicorn (production shape)")
    api.add_argument("--host", help="address to bind (default [api] host)")
    api.add_argument("--port", type=int, help="port to bind (default [api] port)")
    api.add_argument("--workers", type=int, help="worker processes (default [api] workers)")

    for name, what in (("conductor", "the conductor: orchestrates builds and moves between the scheduler and "
                                     "the hosts"),
                       ("scheduler", "the scheduler: picks and claims hosts with the configured filters and "
                                     "weighers")):
        service = sub.add_parser(name, help=f"run {what} (needs a broker in [messaging] transport_url)")
        service.add_argument("--host", help="the name it heartbeats as (default [DEFAULT] host)")
    compute = sub.add_parser("compute", help="run this host's compute service with the configured hypervisor "
                                             "(needs a broker in [messaging] transport_url)")
    compute.add_argument("--host", help="this host's name (default [DEFAULT] host)")
    proxy = sub.add_parser("console-proxy", help="run the console proxy: noVNC and serial consoles of servers over "
                                                 "websockets (reads the compute database's console tokens)")
    proxy.add_argument("--host", help="address to bind (default [console_proxy] host)")
    proxy.add_argument("--port", type=int, help="port to bind (default [console_proxy] port, else 6080)")
    for name, what in (("volume", "this host's volume services, one per backend in [volume] enabled_backends"),
                       ("volume-scheduler", "the volume scheduler: places volumes on the backends' pools")):
        service = sub.add_parser(name, help=f"run {what} (needs a broker in [messaging] transport_url)")
        service.add_argument("--host", help="this host's name (default [DEFAULT] host)")

    drivers = sub.add_parser("drivers", help="list installed drivers per namespace")
    drivers.add_argument("--check", action="store_true",
                         help="load the drivers and plugins the configuration selects and report each")
    drivers.add_argument("--json", action="store_true", help="machine-readable listing")

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    sample = config_sub.add_parser("sample", help="write a sample stratus.conf")
    sample.add_argument("--output-file", help="write here instead of stdout")
    sample.add_argument("--core-only", action="store_true",
                        help="only the core's options (what etc/stratus.conf.sample holds), "
                             "not those of installed driver packages")
    config_sub.add_parser("check", help="read the configuration and report every invalid value")

    policy = sub.add_parser("policy", help="policy tools")
    policy_sub = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    policy_sample = policy_sub.add_parser("sample", help="write every default policy rule, commented out")
    policy_sample.add_argument("--output-file", help="write here instead of stdout")

    manage = sub.add_parser("manage", help="administrative tasks")
    manage_sub = manage.add_subparsers(dest="manage_command", metavar="AREA", required=True)
    db = manage_sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    sync = db_sub.add_parser("sync", help="create or upgrade every service's tables")
    sync.add_argument("--service", action="append", dest="services", metavar="NAME",
                      help="only this service (repeatable)")
    db_sub.add_parser("version", help="show each service's schema revision and the latest one")
    keys = manage_sub.add_parser("token-keys", help="the keys that encrypt tokens ([token] key_repository)")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    keys_sub.add_parser("setup", help="create the key repository if it has no keys")
    keys_sub.add_parser("rotate", help="make the staged key primary and stage a new one; copy the "
                                       "directory to every API host afterwards")
    credential_keys = manage_sub.add_parser(
        "credential-keys", help="the keys that encrypt stored credentials ([identity] credential_key_repository)")
    credential_keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True).add_parser(
        "setup", help="create the key repository if it has no keys")
    metadefs = manage_sub.add_parser("metadefs", help="the metadata definitions shipped with Stratus")
    metadefs.add_subparsers(dest="metadefs_command", metavar="ACTION", required=True).add_parser(
        "load", help="create the shipped namespaces and resource types that are missing (edits are kept)")
    boot = manage_sub.add_parser("bootstrap", help="create the default domain, admin project/user/roles "
                                                   "and the catalog (idempotent)")
    boot.add_argument("--password", help="the admin user's password (default: $STRATUS_BOOTSTRAP_PASSWORD)")
    boot.add_argument("--public-url",
                      help="base URL clients reach the APIs at, e.g. https://cloud.example.com (default: "
                           "[api] public_endpoint)")
    boot.add_argument("--region", help="catalog region (default: [identity] region_name)")
    return parser


def _load_conf(args: argparse.Namespace, overrides: dict | None = None):
    from stratus import conf as stratus_conf
    from stratus.conf.opts import unknown_options, unknown_sections

    conf = stratus_conf.build(args.config_files, overrides=overrides)
    if args.debug:
        conf.set_override("debug", True)
    stratus_conf.validate(conf)
    for section in unknown_sections(conf):
        print(f"stratus: warning: no installed part of Stratus reads section [{section}] "
              f"of {', '.join(conf.config_file)}; is it misspelt?", file=sys.stderr)
    for section, option in unknown_options(conf):
        print(f"stratus: warning: section [{section}] of {', '.join(conf.config_file)} has no option "
              f"{option!r}; is it misspelt?", file=sys.stderr)
    return conf


def _setup_logging(debug: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not debug:
        # one line per migration step on every start is noise; `manage db sync` reports revisions
        logging.getLogger("alembic").setLevel(logging.WARNING)


def _console_proxy(conf, host: str, port: int) -> None:
    """``stratus console-proxy`` until SIGTERM or SIGINT."""
    import signal
    import threading

    from stratus.compute.console_proxy import ConsoleProxy
    from stratus.db.engine import Database
    from stratus.serving import ensure_can_listen

    ensure_can_listen(host, port, "--host/--port")
    db = Database.for_service(conf, "compute")
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    proxy = ConsoleProxy(db, host, port, conf.console_proxy.web).start()
    print(f"stratus console-proxy: serving consoles on {host}:{proxy.port}", flush=True)
    try:
        stopping.wait()
    finally:
        proxy.stop()
        db.dispose()


def _run(args: argparse.Namespace) -> int:
    if args.command == "up":
        import os

        import platformdirs

        from stratus.embedded import Embedded, embedded_overrides

        data_dir = os.path.abspath(args.data_dir or platformdirs.user_data_dir("stratus"))
        overrides = embedded_overrides(data_dir)
        if args.hypervisor:
            overrides["compute"] = {"hypervisor": args.hypervisor}
        conf = _load_conf(args, overrides)
        _setup_logging(conf.debug)
        Embedded(conf, args.host, args.port, defaults=conf.embedded.defaults and not args.no_defaults).run()
        return 0
    if args.command == "api":
        conf = _load_conf(args)
        _setup_logging(conf.debug)
        from stratus.api_server import run_api

        run_api(conf, host=args.host, port=args.port, workers=args.workers)
        return 0
    if args.command in ("conductor", "scheduler", "compute"):
        conf = _load_conf(args, {"DEFAULT": {"host": args.host}} if getattr(args, "host", None) else None)
        _setup_logging(conf.debug)
        from stratus.compute import processes

        processes.run(conf, args.command, sys.stdout)
        return 0
    if args.command == "console-proxy":
        conf = _load_conf(args)
        _setup_logging(conf.debug)
        _console_proxy(conf, args.host or conf.console_proxy.host, args.port or conf.console_proxy.port or 6080)
        return 0
    if args.command in ("volume", "volume-scheduler"):
        conf = _load_conf(args, {"DEFAULT": {"host": args.host}} if getattr(args, "host", None) else None)
        _setup_logging(conf.debug)
        from stratus.volume import processes as volume_processes

        volume_processes.run(conf, args.command, sys.stdout)
        return 0
    if args.command == "drivers":
        from stratus.cmd import drivers

        if args.check:
            return drivers.check_drivers(_load_conf(args), sys.stdout)
        return drivers.list_drivers(sys.stdout, args.json)
    if args.command == "config":
        if args.config_command == "sample":
            from stratus.conf import opts, sample

            namespaces = list(sample.CORE_NAMESPACES)
            if not args.core_only:
                namespaces += [ns for ns in opts.installed_namespaces() if ns not in namespaces]
            sample.generate(args.output_file, namespaces)
            return 0
        _load_conf(args)
        print("configuration is valid")
        return 0
    if args.command == "policy":
        from stratus.api.policy import all_rules, sample_yaml

        text = sample_yaml(all_rules())
        if args.output_file:
            with open(args.output_file, "w") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
        return 0
    if args.command == "manage":
        from stratus.db import migration

        conf = _load_conf(args)
        if args.manage_command == "token-keys":
            from stratus.identity.keys import KeyRepository

            repository = KeyRepository(conf.token.key_repository, conf.token.max_active_keys)
            if args.keys_command == "setup":
                created = repository.setup()
                print(f"{'created' if created else 'kept the existing'} key repository {repository.path}")
            else:
                print(f"rotated: key {repository.rotate()} is now primary in {repository.path}")
            return 0
        if args.manage_command == "credential-keys":
            from stratus.identity.keys import KeyRepository

            repository = KeyRepository(conf.identity.credential_key_repository)
            created = repository.setup()
            print(f"{'created' if created else 'kept the existing'} key repository {repository.path}")
            return 0
        if args.manage_command == "metadefs":
            from stratus.db.engine import Database
            from stratus.image.definitions import load

            database = Database.for_service(conf, "image")
            try:
                made = load(database)
            finally:
                database.dispose()
            print(f"loaded {', '.join(made)}" if made else "every shipped namespace was already there")
            return 0
        if args.manage_command == "bootstrap":
            import os

            from stratus.identity.bootstrap import bootstrap
            from stratus.identity.service import IdentityService

            password = args.password or os.environ.get("STRATUS_BOOTSTRAP_PASSWORD")
            if not password:
                raise ConfigError("give the admin password with --password or STRATUS_BOOTSTRAP_PASSWORD")
            public_url = args.public_url or conf.api.public_endpoint
            if not public_url:
                raise ConfigError("give the URL clients reach the APIs at with --public-url or [api] public_endpoint")
            identity = IdentityService(conf)
            try:
                result = bootstrap(identity, password, public_url, args.region or conf.identity.region_name)
            finally:
                identity.close()
            print(f"bootstrapped: domain {result.domain_id}, project admin {result.project_id}, "
                  f"user admin {result.user_id}")
            return 0
        if args.db_command == "sync":
            for service, revision in migration.sync(conf, args.services).items():
                print(f"{service}: at revision {revision}")
            return 0
        for service, (current, head) in migration.status(conf).items():
            state = "up to date" if current == head else "needs `stratus manage db sync`"
            print(f"{service}: {current or 'empty'} (latest {head}) {state}")
        return 0
    raise AssertionError(f"unhandled command {args.command}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        status = _run(args)
        sys.stdout.flush()  # a reader gone by now is met here, not in the interpreter's exit flush
        return status
    except ConfigError as exc:
        print(f"stratus: configuration error: {exc}", file=sys.stderr)
        return 2
    except StratusError as exc:
        print(f"stratus: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # the reader went away (stratus config sample | head): stop quietly, as a Unix tool
        # killed by SIGPIPE would; stdout is pointed at /dev/null so the exit flush stays silent
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:
        print(f"stratus: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
