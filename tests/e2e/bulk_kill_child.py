"""The child process of test_bulk_kill: one resumable import of process instances against the
emulator, killed by a real SIGKILL (its own, sent to itself) at the point its arguments name:

- `("journal", n)`: as the n-th SQLite statement of the journal is about to run (the schema,
  a batch being planned, marked sent, confirmed: before a send, between the statements of one
  journal write, after the server applied a batch and the answer was read);
- `("sent", n)`: once the first socket write of the n-th request returned (its head is on the
  wire, maybe not its body);
- `("waiting", n)`: as it starts waiting for the answer of the n-th request (all of it sent).

Requests are counted, not socket calls: how many writes and reads one exchange takes depends
on how the bytes happen to travel, the number of requests does not.

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

JOURNAL_CALLS = ("execute", "executemany")
SEND_CALLS = ("send", "sendall")
RECEIVE_CALLS = ("recv", "recv_into")


def records(prefix: str, count: int) -> list[dict[str, Any]]:
    return [{"header": {"projectIdentifier": "My Project A", "subject": f"{prefix} {i:03d}"}}
            for i in range(count)]


def main() -> None:
    args = json.loads(sys.argv[1])
    kill = args.get("kill")  # [kind, n] or None
    counts = {"journal": 0, "sent": 0, "waiting": 0}
    sending = [False]  # a request is being written: its first write seen, no read yet

    def count(kind: str) -> None:
        counts[kind] += 1
        if kill == [kind, counts[kind]]:
            os.kill(os.getpid(), signal.SIGKILL)

    def profile(frame: Any, event: str, arg: Any) -> None:
        name, owner = getattr(arg, "__name__", ""), getattr(arg, "__self__", None)
        if event == "c_call" and name in JOURNAL_CALLS and isinstance(owner, sqlite3.Connection):
            count("journal")
        elif event == "c_return" and name in SEND_CALLS and isinstance(owner, socket.socket):
            if not sending[0]:
                sending[0] = True
                count("sent")
        elif event == "c_call" and name in RECEIVE_CALLS and isinstance(owner, socket.socket):
            if sending[0]:
                sending[0] = False
                count("waiting")

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
