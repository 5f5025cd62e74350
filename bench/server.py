"""The fake VoIPstudio server for benchmarks, in its own process.

``python -m bench.server --cdrs 100000 --big 200000000 --fanout 1000 --fanout-size 200000``
binds 127.0.0.1 on a free port, prints one JSON line (base URL, credentials, ids) and
serves until terminated.
"""

from __future__ import annotations

import argparse
import json
import sys

import uvicorn

from voipstudio_async.testing import FakeVoipStudio
from voipstudio_async.testing._server import bind, loopback_url, uvicorn_config


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.server")
    p.add_argument("--cdrs", type=int, default=100_000)
    p.add_argument("--big", type=int, default=200_000_000, help="bytes of the big recording")
    p.add_argument("--fanout", type=int, default=1_000, help="number of small recordings")
    p.add_argument("--fanout-size", type=int, default=200_000)
    args = p.parse_args(argv)
    fake = FakeVoipStudio(0, cdrs=args.cdrs, monitors=10, msdrs=10, chats=1, voicemessages=1)
    big = fake.add_monitor(size=args.big)
    small = [fake.add_monitor(size=args.fanout_size) for _ in range(args.fanout)]
    sock = bind("127.0.0.1", 0)
    creds = fake.credentials
    info = {
        "base_url": loopback_url(fake, sock),
        "user_id": creds.user_id,
        "api_key": creds.api_key,
        "cdr_ids": fake.ids("cdrs")[:1000],
        "cdr_count": args.cdrs,
        "big_id": big,
        "big_size": args.big,
        "small_ids": small,
        "small_size": args.fanout_size,
    }
    print(json.dumps(info), flush=True)
    uvicorn.Server(uvicorn_config(fake.app)).run(sockets=[sock])
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
