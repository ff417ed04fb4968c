"""The child process of test_bulk_kill: one resumable import of process instances against the
emulator, killed by a real SIGKILL (its own, sent to itself) at the point its arguments name:

- `("journal", n)`: as the n-th SQLite statement of the journal is about to run (the schema,
  a batch being planned, marked sent, confirmed: before a send, between the statements of one
  journal write, after the server applied a batch and the answer was read);
- `("sent", n)`: once the n-th socket write returned (the request is on the wire, its answer
  not read);
- `("waiting", n)`: as it starts waiting for the n-th time for bytes from the server.

The points are found with `sys.setprofile`, which sees every call of a C function: nothing of
the client is replaced. Without a kill point the child prints what it counted and what the
import reported, as JSON."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import sys
from typing import Any

import ebuilder

# The C functions a kill point counts, by kind: (name, on return rather than on call).
POINTS = {"journal": (("execute", "executemany"), False), "sent": (("send", "sendall"), True),
          "waiting": (("recv", "recv_into"), False)}
OWNERS = {"journal": sqlite3.Connection, "sent": socket.socket, "waiting": socket.socket}


def records(prefix: str, count: int) -> list[dict[str, Any]]:
    return [{"header": {"projectIdentifier": "My Project A", "subject": f"{prefix} {i:03d}"}}
            for i in range(count)]


def main() -> None:
    args = json.loads(sys.argv[1])
    kill = args.get("kill")  # [kind, n] or None
    counts = dict.fromkeys(POINTS, 0)

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event not in ("c_call", "c_return"):
            return
        for kind, (names, on_return) in POINTS.items():
            if getattr(arg, "__name__", "") in names and isinstance(
                    getattr(arg, "__self__", None), OWNERS[kind]) and (
                    (event == "c_return") == on_return):
                counts[kind] += 1
                if kill == [kind, counts[kind]]:
                    os.kill(os.getpid(), signal.SIGKILL)

    with ebuilder.EBuilder(base_url=args["base_url"], token_url=args["token_url"],
                           username=args["username"], password=args["password"],
                           rate_limit=None) as eb:
        sys.setprofile(profile)
        try:
            bulk = eb.non_cost_processes.import_many(
                records(args["prefix"], args["count"]), batch_size=args["batch_size"],
                options={"processPrefix": "RFI", "importMode": "Entity", "createAsDraft": True},
                journal=args["journal"])
        except ebuilder.BulkInterruptedError as exc:
            bulk = exc.result
        finally:
            sys.setprofile(None)
    print(json.dumps({
        "counts": counts,
        "ok": [o.index for o in bulk.outcomes if o.ok],
        "in_doubt": [o.index for o in bulk.in_doubt],
        "failed": [o.index for o in bulk.outcomes if not o.ok and not o.in_doubt],
        "not_sent": [o.index for o in bulk.not_sent],
        "resumed": bulk.resumed,
    }))


if __name__ == "__main__":
    main()
