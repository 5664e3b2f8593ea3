"""Signing benchmark: gunicorn on PostgreSQL and Redis, 50 concurrent clients on the same machine.

Measures, in one run and with the same gunicorn settings:
  (a) a sign POST (a fresh participant × slot each time: a real insert, image check, two blobs, audit),
  (b) a live-page change check when nothing changed (204),
  (c) a minimal Flask app returning a small JSON body (baseline, generated into a temp dir).

It creates (and drops) its own PostgreSQL database, uses Redis database 11 (flushed before and after), and
writes the figures and the machine into the "## Signing" section of docs/performance.md.

    .venv/bin/python bench/signing.py [--duration 10] [--clients 50] [--workers 4] [--threads 4]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta

from common import (
    DOC,
    ROOT,
    SECRET,
    free_port,
    machine,
    production_app,
    production_env,
    scratch,
    stop,
    write_section,
)

sys.path.insert(0, ROOT)

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
SLUG = "bench"
SIGN_SLOTS = 3
PARTICIPANTS = 4000

BASELINE_APP = """
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/ping")
def ping():
    return jsonify(ok=True, service="baseline")
"""


def signature_png() -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(20 + i * 45, 80 + (i % 3) * 40) for i in range(13)]
    draw.line(points, fill=(10, 10, 10, 255), width=5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


# --- set-up --------------------------------------------------------------------------------------------------


def seed(env: dict) -> dict:
    """The tenant, a session with slots open now, participants enrolled, their links, the room secrets."""
    from sqlalchemy import select

    from blueprints.accounts.models import ADMIN, FACILITATOR, Organization, User
    from blueprints.audit.services import Actor
    from blueprints.participants.models import Enrollment, Participant
    from blueprints.signing import services, signin_links
    from blueprints.signing.tokens import live_token
    from blueprints.trainings.models import Slot, Training, TrainingSession
    from tenants import current_tenant, tenant_scope
    from tenants.db import db
    from tenants.provisioning import NewTenant, provision

    def populate(session, ref):
        session.add(
            Organization(
                name="Bench",
                address="1 rue X",
                postal_code="75001",
                city="Paris",
                contact_email="bench@example.org",
            )
        )
        session.add(User(email="admin@bench.example", first_name="A", last_name="Dmin", role=ADMIN))
        session.add(
            User(email="fred@bench.example", first_name="Fred", last_name="Trainer", role=FACILITATOR)
        )

    app = production_app(env)
    with app.app_context():
        provision(NewTenant(slug=SLUG, name="Bench"), populate)
    now = datetime.now(UTC).replace(microsecond=0)
    with tenant_scope(SLUG, app):
        fred = db.session.scalars(select(User).where(User.email == "fred@bench.example")).one()
        training = Training(title="Bench training", planned_hours=7)
        session = TrainingSession(
            training=training,
            start_date=now.date(),
            end_date=now.date(),
            timezone="Europe/Paris",
            room_code_required=True,
        )
        session.facilitators = [fred]
        db.session.add_all([training, session])
        slots = [
            Slot(
                session=session,
                day=now.date(),
                starts_at=now - timedelta(minutes=5),
                ends_at=now + timedelta(hours=3),
                label=f"slot {i}",
            )
            for i in range(SIGN_SLOTS + 1)
        ]
        db.session.add_all(slots)
        people = [
            Participant(first_name=f"P{i}", last_name="Bench", email=f"p{i}@bench.example", language="fr")
            for i in range(PARTICIPANTS)
        ]
        db.session.add_all(people)
        db.session.flush()
        db.session.add_all([Enrollment(session_id=session.id, participant_id=p.id) for p in people])
        db.session.flush()
        actor = Actor.system("bench")
        tokens = [
            signin_links.token_of(signin_links.trainee_link(session, p, actor), current_tenant())
            for p in people
        ]
        secrets = {slot.id: services.state_of(slot).room_secret for slot in slots}
        db.session.commit()
        sign_slots = [s.id for s in slots[:SIGN_SLOTS]]
        poll_slot = slots[SIGN_SLOTS].id
        schema = app.extensions and __import__("tenants").find_tenant(slug=SLUG).schema
    with app.app_context():
        db.engine.dispose()
    return {
        "tokens": tokens,
        "secrets": secrets,
        "sign_slots": sign_slots,
        "poll_path": f"/live/{live_token(SECRET, schema, poll_slot)}?v=0",
    }


def start_gunicorn(app_spec: str, port: int, args, env: dict, cwd: str) -> subprocess.Popen:
    command = [
        os.path.join(ROOT, ".venv", "bin", "gunicorn"),
        "--workers",
        str(args.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(args.threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--backlog",
        "2048",
        app_spec,
    ]
    process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env}, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"gunicorn did not start: {app_spec}")


# --- load ----------------------------------------------------------------------------------------------------


def _client_worker(spec):
    """One process of the load generator: ``threads`` clients with keep-alive connections."""
    kind, port, threads, duration, warmup, payload, offset = spec
    if kind == "sign":
        from blueprints.signing.roomcodes import current_code
    results = []
    lock = threading.Lock()
    start_at = time.monotonic() + 0.2
    measure_from = start_at + warmup
    stop_at = measure_from + duration

    def run(index: int):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies, statuses, sent = [], {}, 0
        while time.monotonic() < start_at:
            time.sleep(0.005)
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
            if kind == "sign":
                pairs = payload["pairs"][offset + index]
                if sent >= len(pairs):
                    statuses["exhausted"] = statuses.get("exhausted", 0) + 1
                    break
                token, slot_id = pairs[sent]
                code = current_code(payload["secrets"][slot_id], slot_id, datetime.now(UTC))
                body = urllib.parse.urlencode({"slot": slot_id, "code": code, "signature": payload["image"]})
                method, path = "POST", f"/{SLUG}/sign/{token}"
                headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "fr"}
            else:
                method, path, body, headers = "GET", payload["path"], None, {}
            sent += 1
            began = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException):
                status = "error"
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.perf_counter() - began
            if began - 0 >= 0 and time.monotonic() >= measure_from:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
        connection.close()
        with lock:
            results.append((latencies, statuses))

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    latencies = [x for r in results for x in r[0]]
    statuses: dict = {}
    for r in results:
        for k, v in r[1].items():
            statuses[k] = statuses.get(k, 0) + v
    return latencies, statuses


def load(kind: str, port: int, args, payload: dict) -> dict:
    processes = max(1, min(args.processes, args.clients))
    per = [args.clients // processes + (1 if i < args.clients % processes else 0) for i in range(processes)]
    offsets = [sum(per[:i]) for i in range(processes)]
    specs = [(kind, port, per[i], args.duration, args.warmup, payload, offsets[i]) for i in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        parts = pool.map(_client_worker, specs)
    latencies = sorted(x for part in parts for x in part[0])
    statuses: dict = {}
    for part in parts:
        for k, v in part[1].items():
            statuses[k] = statuses.get(k, 0) + v

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
        )

    return {
        "requests": len(latencies),
        "throughput": len(latencies) / args.duration,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "mean": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
        "statuses": statuses,
    }


# --- report --------------------------------------------------------------------------------------------------


def write_report(results: dict, info: dict, args) -> str:
    base = results["baseline"]["throughput"]
    poll, sign = results["poll"], results["sign"]
    poll_ratio, sign_ratio = poll["throughput"] / base, sign["throughput"] / base
    lines = [
        "## Signing",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `.venv/bin/python bench/signing.py` "
        f"(one run; each case {args.duration:g} s after {args.warmup:g} s of warm-up).",
        "",
        f"Machine: {info['cpus']} CPUs ({info['cpu']}), {info['ram']} RAM, Linux {info['kernel']}, "
        f"PostgreSQL {info['postgresql']}, Redis {info['redis']}, Python {info['python']}. "
        f"Load average (1 min) before the run: {info['load_before']:.1f}, after: {os.getloadavg()[0]:.1f} "
        "(other work on the machine shares its CPUs with the benchmark).",
        f"Server: gunicorn, {args.workers} workers × {args.threads} threads (gthread), the same for all three "
        f"cases. Load: {args.clients} concurrent keep-alive clients ({args.processes} processes of threads, "
        "http.client) on the same machine, over loopback: the load generator takes CPU from the server.",
        "",
        "| case | requests | throughput (req/s) | vs baseline | p50 (ms) | p95 (ms) | p99 (ms) | answers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = {
        "baseline": "(c) minimal Flask app, small JSON",
        "poll": "(b) live-page change check, nothing changed (204)",
        "sign": "(a) sign POST (new signature each time)",
    }
    for key in ("baseline", "poll", "sign"):
        r = results[key]
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items(), key=str))
        lines.append(
            f"| {names[key]} | {r['requests']} | {r['throughput']:.0f} | {r['throughput'] / base:.0%} | "
            f"{r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {answers} |"
        )
    lines += [
        "",
        "Targets: the unchanged check at least 50 % of the baseline's throughput — "
        f"**{'met' if poll_ratio >= 0.5 else 'missed'}** ({poll_ratio:.0%}); the sign POST at least 20 % of it — "
        f"**{'met' if sign_ratio >= 0.2 else 'missed'}** ({sign_ratio:.0%}), with p99 under 250 ms — "
        f"**{'met' if sign['p99'] < 250 else 'missed'}** ({sign['p99']:.0f} ms).",
        "",
    ]
    return "\n".join(lines)


NOTES_START = "<!-- signing-notes -->"


def kept_notes() -> str:
    """Hand-written analysis below the figures (between markers) survives a new run."""
    if not os.path.exists(DOC):
        return ""
    with open(DOC) as f:
        text = f.read()
    found = re.search(
        re.escape(NOTES_START) + r".*?" + re.escape(NOTES_START.replace("<!--", "<!-- end")), text, re.S
    )
    return "\n" + found.group(0) + "\n" if found else ""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-doc", action="store_true", help="print, do not write docs/performance.md")
    args = parser.parse_args()

    with scratch(f"emarge_bench_{os.getpid()}", REDIS_URL) as (url, instance):
        env = production_env(url, instance, REDIS_URL)
        processes = []
        load_before = os.getloadavg()[0]
        try:
            print("seeding…", flush=True)
            seeded = seed(env)
            with open(os.path.join(instance, "baseline_app.py"), "w") as f:
                f.write(BASELINE_APP)
            emarge_port, baseline_port = free_port(), free_port()
            processes.append(start_gunicorn("app:create_app()", emarge_port, args, env, ROOT))
            processes.append(start_gunicorn("baseline_app:app", baseline_port, args, {}, instance))

            image = signature_png()
            pairs = [(token, slot) for slot in seeded["sign_slots"] for token in seeded["tokens"]]
            # Each client gets its own share of fresh (participant, slot) pairs: every POST is a new signature.
            shares = [pairs[i :: args.clients] for i in range(args.clients)]
            results = {}
            print("baseline…", flush=True)
            results["baseline"] = load("get", baseline_port, args, {"path": "/ping"})
            print("change check…", flush=True)
            results["poll"] = load("get", emarge_port, args, {"path": seeded["poll_path"]})
            print("sign POST…", flush=True)
            results["sign"] = load(
                "sign", emarge_port, args, {"pairs": shares, "secrets": seeded["secrets"], "image": image}
            )
            info = machine(REDIS_URL)
            info["load_before"] = load_before
            report = write_report(results, info, args)
            print(report)
            if not args.no_doc:
                write_section(report + kept_notes())
        finally:
            for process in processes:
                stop(process)


if __name__ == "__main__":
    main()
