"""Loaded by every process of the channel tests' stack (PYTHONPATH), before any code of theirs.

A Python audit hook watches every name lookup and every connection the process makes. One that
is not for this machine (127.0.0.1, ::1, localhost) is written to $NETGUARD_LOG and refused, so
a channel that would reach a real platform host fails loudly instead of leaving the machine, and
the test reads the log to show that nothing tried. It observes; it changes no code of the process.
"""

from __future__ import annotations

import os
import sys

_LOG = os.environ.get("NETGUARD_LOG")
_LOCAL = {"127.0.0.1", "::1", "localhost", "0.0.0.0", "", None}
_LOOKUPS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"}


def _host(value: object) -> object:
    return value.decode() if isinstance(value, bytes) else value


def _refuse(event: str, target: object) -> None:
    with open(_LOG, "a", encoding="utf-8") as log:  # type: ignore[arg-type]
        log.write(f"{os.getpid()} {sys.argv[:3]} {event} {target!r}\n")
    raise PermissionError(f"netguard: {event} {target!r} is not on 127.0.0.1 (test run)")


def _audit(event: str, args: tuple) -> None:
    if not event.startswith("socket."):
        return
    if event in _LOOKUPS:
        host = _host(args[0])
        if host not in _LOCAL and not str(host).startswith("127."):
            _refuse(event, host)
    elif event in ("socket.connect", "socket.sendto"):
        address = args[1]
        if isinstance(address, tuple) and address:
            host = _host(address[0])
            if host not in _LOCAL and not str(host).startswith("127."):
                _refuse(event, address)


if _LOG:
    sys.addaudithook(_audit)
    with open(f"{_LOG}.armed", "a", encoding="utf-8") as armed:
        armed.write(f"{os.getpid()}\n")
