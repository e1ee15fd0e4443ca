"""`make run`: train if needed, start every process on 127.0.0.1, print URLs, stop all on Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import time

from scripts.project_model import ensure_model
from scripts.stack import Ports, Stack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rasa-port", type=int, default=Ports.rasa)
    parser.add_argument("--actions-port", type=int, default=Ports.actions)
    parser.add_argument("--service-port", type=int, default=Ports.service)
    args = parser.parse_args()

    model = ensure_model()
    stack = Stack(model=model, ports=Ports(args.rasa_port, args.actions_port, args.service_port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"starting the bot with {model.name} ...", flush=True)
    try:
        stack.start()
        print_urls(stack)
        while all(p.popen.poll() is None for p in stack.processes):
            time.sleep(0.5)
        dead = [p for p in stack.processes if p.popen.poll() is not None]
        for process in dead:
            print(f"\n{process.name} stopped unexpectedly:\n{process.log_tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    finally:
        stack.stop()


def print_urls(stack: Stack) -> None:
    lines = [
        ("Rasa server (HTTP API)", f"{stack.rasa_url}/"),
        ("  REST channel", f"{stack.rasa_url}/webhooks/rest/webhook"),
        ("  socket.io channel", f"{stack.rasa_url}/socket.io/"),
        ("  handoff connector", f"{stack.rasa_url}/webhooks/handoff/"),
        ("Action server", f"{stack.actions_url}/webhook"),
        ("Handoff service (API)", f"{stack.service_url}/api/"),
        ("  OpenAPI document", f"{stack.service_url}/openapi.json"),
        ("  attendant Inbox", f"{stack.service_url}/inbox"),
    ]
    width = max(len(label) for label, _ in lines)
    print("\nReady. Logs are in .data/logs/. Press Ctrl-C to stop everything.\n")
    for label, url in lines:
        print(f"  {label:<{width}}  {url}")
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
