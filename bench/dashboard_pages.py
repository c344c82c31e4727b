"""Every dashboard page's server time with 100,000 contacts and 1,000,000 events on SQLite
(issue 17 target: each < 200 ms).

Builds a fresh SQLite data dir with the demo shop, imports ``--events`` events of
``--contacts`` contacts (``bench/events_metrics.py``'s generator and the CLI's
import path; not measured), signs a shop admin in, and requests each page
in-process through the ASGI app (``httpx.ASGITransport``: no network, so the time
is the server's), ``--runs`` times each after one warm-up; prints the minimum
and median per page.

    .venv/bin/python bench/dashboard_pages.py --contacts 100000 --events 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import httpx

from kindbot.bootstrap import open_container
from kindbot.bundles.apply import apply_bundle
from kindbot.core.records.accounts import Role
from kindbot.ops.accounts import add_user, grant_role
from kindbot.ops.events import import_event_file
from kindbot.settings import Settings
from kindbot.web.app import build_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
from events_metrics import write_events

PASSWORD = "a long enough bench password"
PAGES = (
    "/dashboard/teashop",
    "/dashboard/teashop/overview?from=2026-12-14&to=2027-01-11",
    "/dashboard/teashop/analytics?from=2026-12-14&to=2027-01-11",
    "/dashboard/teashop/inbox",
    "/dashboard/teashop/contacts",
    "/dashboard/teashop/contacts?sort=created",
    "/dashboard/teashop/contacts?min_orders=3",
    "CONTACT",
    "/dashboard/teashop/kb",
    "/dashboard/teashop/flows",
    "/dashboard/teashop/compliance",
    "/dashboard/teashop/members",
    "/dashboard/teashop/settings",
    "/admin",
)


async def sign_in(client: httpx.AsyncClient) -> None:
    form = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    data = {"email": "owner@teashop.cn", "password": PASSWORD, "csrf": csrf.group(1)}
    done = await client.post("/login", data=data)
    assert done.status_code == 303, done.text


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        settings = Settings(
            data_dir=data_dir,
            database_url=None,
            redis_url=None,
            secret_key=None,
            sentence_encoder="off",
        )
        file = Path(tmp) / "events.jsonl"
        write_events(file, args.contacts, args.events, 84, 16)
        async with open_container(settings, auto_migrate=True) as c:
            bundle = resources.files("kindbot.demo").joinpath("bundle.yaml")
            with resources.as_file(bundle) as path:
                await apply_bundle(c.store, c.box, path, c.clock.now())
            async with c.store.transaction(readonly=True) as tx:
                tenant = await tx.tenants.get_by_slug("teashop")
            assert tenant is not None
            started = time.perf_counter()
            await import_event_file(c.store, tenant, file, c.clock.now())
            print(f"{args.events:,} events of {args.contacts:,} contacts imported in "
                  f"{time.perf_counter() - started:.0f} s (not measured)")  # fmt: skip
            now = c.clock.now()
            await add_user(c.store, email="owner@teashop.cn", name="Owner", password=PASSWORD,
                           platform_admin=True, now=now)  # fmt: skip
            await grant_role(c.store, email="owner@teashop.cn", tenant=tenant,
                             role=Role.TENANT_ADMIN, actor="bench", now=now)  # fmt: skip
            transport = httpx.ASGITransport(app=build_app(c))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                await sign_in(client)
                listed = await client.get("/dashboard/teashop/contacts")
                first = re.search(r'/dashboard/teashop/contacts/([0-9a-f]{32})"', listed.text)
                assert first is not None
                worst = 0.0
                for page in PAGES:
                    url = (
                        f"/dashboard/teashop/contacts/{first.group(1)}"
                        if page == "CONTACT"
                        else page
                    )
                    await client.get(url)  # warm-up
                    took = []
                    for _ in range(args.runs):
                        began = time.perf_counter()
                        response = await client.get(url)
                        took.append((time.perf_counter() - began) * 1000)
                        assert response.status_code == 200, (url, response.status_code)
                    worst = max(worst, statistics.median(took))
                    median = statistics.median(took)
                    print(f"{url:62s} min {min(took):7.1f} ms  median {median:7.1f} ms")
                print(f"slowest page median: {worst:.0f} ms (target < 200 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
