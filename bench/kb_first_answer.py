"""How long a new server process takes to answer its first question.

Applies a bundle with a ``--entries`` FAQ (question + 2 similar phrasings each,
``wechat_oa_throughput.write_bundle``) to a fresh SQLite data dir — ``apply``
encodes and stores the knowledge base's sentence vectors — then, ``--runs``
times: starts ``kindbot serve`` (which loads the sentence model at start-up),
waits until it answers ``/healthz``, sends one encrypted Official Account text
push and times its passive reply (the knowledge base is built at that first
question: from the stored vectors, quickly, the full build following in the
background). Prints each run and the median.

    .venv/bin/python bench/kb_first_answer.py --entries 1000 --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kindbot.testing.wechat_callbacks import WeChatServerClient
from wechat_oa_throughput import (
    AES_KEY,
    APP_ID,
    GH,
    TOKEN,
    applied_bundle,
    exchange,
    free_port,
    start,
    wait_until_up,
)


async def first_answer(port: int) -> tuple[float, bytes]:
    """Seconds from sending one push to its passive reply, and the reply."""
    from urllib.parse import urlencode

    import httpx

    await wait_until_up(f"http://127.0.0.1:{port}/healthz")
    path = "/channels/bench.oa/callback"
    wechat = WeChatServerClient(
        httpx.AsyncClient(),
        path,
        token=TOKEN,
        app_id=APP_ID,
        gh_id=GH,
        mode="safe",
        encoding_aes_key=AES_KEY,
    )
    now = int(time.time())
    xml = wechat.text_xml("first-user", "请问运费问题7怎么处理", f"first{now}", now)
    query, body = wechat.build(xml, now, nonce=f"first{time.time_ns()}")
    request = (
        f"POST {path}?{urlencode(query)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode("ascii") + body
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        started = time.perf_counter()
        status, reply = await exchange(reader, writer, request)
        elapsed = time.perf_counter() - started
    finally:
        writer.close()
    if status != 200:
        raise RuntimeError(f"push answered {status}: {reply[:200]!r}")
    return elapsed, reply


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    kindbot_exe = str(Path(sys.executable).parent / "kindbot")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        started = time.perf_counter()
        env, applied = applied_bundle(data, args.entries, kindbot_exe)
        print(f"apply (entries + their sentence vectors): {time.perf_counter() - started:.1f} s")
        print(applied.strip().splitlines()[-1])
        times = []
        for run in range(args.runs):
            port = free_port()
            server = start([kindbot_exe, "serve", "--port", str(port)], env)
            try:
                elapsed, reply = asyncio.run(first_answer(port))
            finally:
                server.terminate()
                server.wait(timeout=30)
            times.append(elapsed)
            print(f"run {run + 1}: first answer in {elapsed * 1000:.0f} ms ({len(reply)} bytes)")
    print(
        f"{args.entries} entries x 3 phrasings, SQLite: a new server process answers its "
        f"first question in {statistics.median(times) * 1000:.0f} ms (median of {args.runs})"
    )


if __name__ == "__main__":
    main()
