"""`python -m local_stack [run] [--port P] [--host H] [--data DIR]` starts the platform on one port;
`python -m local_stack demo --participants N` starts it and plays a whole run with N bots."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from local_stack.demo import run_demo
from local_stack.runtime.service import DEFAULT_MAX_ENVIRONMENTS
from local_stack.stack import LocalStack, LocalStackOptions


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["run", "demo"], default="run")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")), help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback only)")
    parser.add_argument("--data", type=Path, help="keep the question store and Redis data in this folder")
    parser.add_argument("--no-samples", action="store_true", help="do not upload the sample question sets")
    parser.add_argument("--participants", type=int, default=20, help="demo: number of bot participants")
    parser.add_argument("--ready-file", type=Path, help="write the URLs and host credentials here as JSON once up")
    parser.add_argument(
        "--redis-cluster-tls",
        action="store_true",
        help="run the cache as deployed: a three-node Redis Cluster with TLS and an ACL user",
    )
    parser.add_argument(
        "--max-environments",
        type=int,
        default=DEFAULT_MAX_ENVIRONMENTS,
        help="execution environments (processes) per function at most",
    )
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = LocalStackOptions(
        host=args.host,
        port=args.port,
        data_dir=args.data,
        examples_dir=None if args.no_samples or args.command == "demo" else LocalStackOptions().examples_dir,
        log_level=args.log_level,
        redis_cluster_tls=args.redis_cluster_tls,
        max_environments=args.max_environments,
    )
    if args.command == "demo":
        with LocalStack(options) as stack:
            return run_demo(stack, participants=args.participants)
    return serve(LocalStack(options), args.ready_file)


def serve(stack: LocalStack, ready_file: Path | None) -> int:
    stopping = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack.start()
    try:
        print(stack.banner(), flush=True)
        if ready_file is not None:
            ready = {
                "base_url": stack.base_url,
                "ws_url": stack.ws_url,
                "host_username": stack.host_username,
                "host_password": stack.host_password,
                **stack.client_config(),
            }
            # Written whole, then renamed: whoever waits for the file never reads half of it.
            partial = ready_file.with_suffix(".partial")
            partial.write_text(json.dumps(ready))
            partial.replace(ready_file)
        stopping.wait()
        print("stopping the local stack ...", flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
