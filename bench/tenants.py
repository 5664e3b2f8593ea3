"""Tenant benchmarks on PostgreSQL, run by hand: ``.venv/bin/python bench/tenants.py``.

(a) Provisioning: the median time of ``tenants.provisioning.provision`` (tenant row, schema, tables, stamp, and a
    first organization and two users whose password hash is computed once beforehand, so the deliberately slow
    hash is not counted), over ``--provision`` tenants.
(b) ``flask tenants migrate`` with every tenant already at head, over ``--tenants`` tenants: in-process
    (``migrate_tenants(all_tenants())``) and as the operator runs it (a ``flask`` subprocess, start-up included).

It works in a database of its own, ``emarge_bench_<pid>``, created and dropped here, and writes its figures in
the "## Tenants" section of docs/performance.md (``--no-docs`` to leave the file alone).
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import time

from common import DOC, ROOT, bulk_create, load, machine, scratch, sqlalchemy_url, write_section

sys.path.insert(0, ROOT)

PROVISION_TARGET_MS = 150
MIGRATE_TARGET_S = 10


def _populate(hashed: str):
    from blueprints.accounts.models import ADMIN, FACILITATOR, Organization, User
    from tenants.db import utcnow

    def populate(session, ref):
        session.add(
            Organization(
                name=ref.name, address="1 rue X", postal_code="75001", city="Paris", contact_email="a@b.fr"
            )
        )
        for n, role in enumerate((ADMIN, FACILITATOR)):
            session.add(
                User(
                    email=f"user{n}@{ref.slug}.fr",
                    first_name=f"User{n}",
                    last_name=ref.slug,
                    role=role,
                    password_hash=hashed,
                    email_verified_at=utcnow(),
                )
            )

    return populate


def run(args) -> dict:
    from sqlalchemy import text

    from app import create_app
    from blueprints.accounts.passwords import hash_password
    from tenants import all_tenants
    from tenants.db import db
    from tenants.migrate import build_platform, migrate_tenants
    from tenants.provisioning import NewTenant, provision

    with scratch(f"emarge_bench_{os.getpid()}") as (url, instance):
        url = sqlalchemy_url(url)
        config = {
            "SKIP_ENV": True,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": None,
            "MIGRATE_JOBS": args.jobs,
        }
        app = create_app(config)
        results: dict = {"provisioned": args.provision, "tenants": args.tenants, "jobs": args.jobs}
        with app.app_context():
            with db.engine.begin() as connection:
                build_platform(connection)
            results["machine"] = {**machine(), "load_start": load()}
            populate = _populate(hash_password("bench-password-not-timed"))

            # (a) provisioning, one tenant at a time, as sign-up does it.
            timings = []
            for n in range(args.provision):
                started = time.perf_counter()
                provision(NewTenant(slug=f"bench{n:04d}", name=f"Bench {n}"), populate)
                timings.append(time.perf_counter() - started)
            results["provision_ms"] = {
                "median": 1000 * statistics.median(timings),
                "p90": 1000 * statistics.quantiles(timings, n=10)[-1],
                "min": 1000 * min(timings),
                "max": 1000 * max(timings),
            }
            print(
                "provision: median {median:.0f} ms, p90 {p90:.0f} ms, min {min:.0f} ms, max {max:.0f} ms".format(
                    **results["provision_ms"]
                ),
                flush=True,
            )

            # (b) the rest of the tenants, quickly, then the no-op migrate.
            started = time.perf_counter()
            bulk_create(args.provision, args.tenants)
            results["bulk_s"] = time.perf_counter() - started
            tenants = all_tenants(active_only=False)
            assert len(tenants) == args.tenants, len(tenants)
            print(
                f"created {args.tenants - args.provision} more tenants in {results['bulk_s']:.1f} s",
                flush=True,
            )

            started = time.perf_counter()
            report = migrate_tenants(all_tenants(active_only=False), jobs=args.jobs)
            results["migrate_s"] = time.perf_counter() - started
            assert report.at_head == args.tenants and not report.upgraded and not report.failed, report
            print(
                f"migrate (in process): {results['migrate_s']:.2f} s for {report.at_head} at head", flush=True
            )
            with db.engine.connect() as connection:
                results["relations"] = connection.execute(text("SELECT count(*) FROM pg_class")).scalar()
            db.engine.dispose()

        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("REDIS_URL", "EMARGE_ENV", "FLASK_APP", "FLASK_DEBUG")
        }
        env.update(
            DATABASE_URL=url, EMARGE_INSTANCE=instance, SECRET_KEY="bench", MIGRATE_JOBS=str(args.jobs)
        )
        flask = [sys.executable, "-m", "flask", "--app", "app", "tenants", "migrate"]
        started = time.perf_counter()
        cli = subprocess.run(flask, cwd=ROOT, env=env, capture_output=True, text=True)
        results["cli_s"] = time.perf_counter() - started
        if cli.returncode != 0:
            raise SystemExit(f"flask tenants migrate failed:\n{cli.stdout}{cli.stderr}")
        results["cli_output"] = cli.stdout.strip()
        print(
            f"flask tenants migrate (subprocess): {results['cli_s']:.2f} s: {results['cli_output']}",
            flush=True,
        )
        results["machine"]["load_end"] = load()
        return results


def section(results: dict) -> str:
    m, p = results["machine"], results["provision_ms"]

    def verdict(ok: bool) -> str:
        return "within target" if ok else "**over target**"

    inner = re.search(r"in ([\d.]+) s", results["cli_output"])
    return f"""## Tenants

Measured by `bench/tenants.py` on {datetime.date.today().isoformat()}, PostgreSQL {m["postgresql"]}, on
{m["cpus"]} CPU ({m["cpu"]}), {m["ram"]} RAM, Python {m["python"]}. Load average (1, 5, 15 min) at the start
of the run {m["load_start"]}, at the end {m["load_end"]}: anything above {m["cpus"]} means other work shared the
machine, and the times grow with it.

| What | Result | Target |
|---|---|---|
| Provision a tenant (row, schema, tables, stamp, organization and two users; password hash excluded), {results["provisioned"]} tenants | median {p["median"]:.0f} ms (p90 {p["p90"]:.0f} ms, min {p["min"]:.0f} ms, max {p["max"]:.0f} ms) | < {PROVISION_TARGET_MS} ms: {verdict(p["median"] < PROVISION_TARGET_MS)} |
| `flask tenants migrate`, {results["tenants"]} tenants all at head, in process (`migrate_tenants(all_tenants())`) | {results["migrate_s"]:.2f} s | < {MIGRATE_TARGET_S} s: {verdict(results["migrate_s"] < MIGRATE_TARGET_S)} |
| The same as a `flask` subprocess, start-up included | {results["cli_s"]:.2f} s (the command reports {inner.group(1) if inner else "?"} s) | < {MIGRATE_TARGET_S} s: {verdict(results["cli_s"] < MIGRATE_TARGET_S)} |

The first {results["provisioned"]} tenants are provisioned one by one as sign-up does; the other
{results["tenants"] - results["provisioned"]} are built in batches of 50 by replaying the DDL `build_tenant` emits
({results["bulk_s"]:.0f} s), so that the no-op migrate runs over {results["tenants"]} real schemas
({results["relations"]:,} relations in `pg_class`).
A no-op migrate reads every tenant's `alembic_version` in two queries and starts no process.
Run it again with `.venv/bin/python bench/tenants.py` (`--help` for the sizes).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provision", type=int, default=50, help="tenants provisioned one by one (timed)")
    parser.add_argument("--tenants", type=int, default=1000, help="tenants in all for the no-op migrate")
    parser.add_argument("--jobs", type=int, default=4, help="MIGRATE_JOBS")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args()
    if args.tenants < args.provision:
        parser.error("--tenants must be at least --provision")
    results = run(args)
    text = section(results)
    print()
    print(text)
    if not args.no_docs:
        write_section(text)
        print(f"updated {os.path.relpath(DOC, ROOT)}")


if __name__ == "__main__":
    main()
