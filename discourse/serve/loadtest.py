"""A bounded load test of ``discourse serve`` on loopback (``scripts/loadtest.py``).

Starts the server in a subprocess (the default models unless ``--config``), then for each level of
concurrent clients sends Perspective requests until ``requests`` have been sent or ``seconds`` have
passed, whichever comes first. Every response is checked (status 200, the client's own
``clientToken`` echoed, each requested attribute a probability in 0..1); a request that gets no
answer counts as lost. Writes p50/p99 latency and requests/s per level to ``reports/serve.md``.

Not a pytest test: timings depend on the machine and on whatever else it runs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ATTRS = ("TOXICITY", "INSULT", "THREAT", "PROFANITY")
PERSPECTIVE_DEFAULT_QPS = 1.0

_OPENINGS = [
    "I read the whole article and",
    "Honestly,",
    "You clearly have no idea what you are talking about and",
    "Thanks for the link,",
    "This is the third time this week that",
    "Shut up, you idiot,",
    "With respect,",
    "Nobody asked you, moron, but",
]
_MIDDLES = [
    "the council should publish the numbers before the vote",
    "the stadium will bring jobs for a few months and debt for thirty years",
    "I think the reporter missed the point about the bus routes",
    "people like you are the reason this town is going downhill",
    "the data in the second chart does not match the text",
    "I will find where you live if you keep posting this garbage",
    "my neighbours all agree with the plan, for what it is worth",
    "this is a stupid, lazy argument and you know it",
]
_ENDINGS = ["", " Just my two cents.", " Read the report yourself.", " What a joke!", " Can anyone confirm this?"]


def corpus() -> list[str]:
    """Varied comments: short and long, polite and abusive, one to three sentences."""
    out = []
    for i, a in enumerate(_OPENINGS):
        for j, b in enumerate(_MIDDLES):
            text = f"{a} {b}.{_ENDINGS[(i + j) % len(_ENDINGS)]}"
            if (i * j) % 5 == 0:
                text += " " + " ".join(_MIDDLES[(j + k) % len(_MIDDLES)] + "." for k in range(1, 4))
            out.append(text)
    return out


@dataclass
class Level:
    clients: int
    latencies: list[float] = field(default_factory=list)
    sent: int = 0
    bad: list[str] = field(default_factory=list)  # answered, but wrongly
    lost: list[str] = field(default_factory=list)  # never answered
    wall_s: float = 0.0
    batches: int = 0

    def pct(self, p: float) -> float:
        xs = sorted(self.latencies)
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))]  # nearest rank

    def row(self) -> dict[str, Any]:
        ok = len(self.latencies)
        return {
            "clients": self.clients,
            "sent": self.sent,
            "ok": ok,
            "bad": len(self.bad),
            "lost": len(self.lost),
            "p50_ms": round(self.pct(50) * 1000, 1),
            "p99_ms": round(self.pct(99) * 1000, 1),
            "rps": round(ok / self.wall_s, 1) if self.wall_s else 0.0,
            "requests_per_pass": round(ok / self.batches, 2) if self.batches else None,
            "wall_s": round(self.wall_s, 2),
        }


def check(status: int, body: bytes, token: str) -> str | None:
    """None when the answer is right, else what is wrong with it."""
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    try:
        data = json.loads(body)
        if data.get("clientToken") != token:
            return f"clientToken {data.get('clientToken')!r} for {token!r}"
        scores = data["attributeScores"]
        for a in ATTRS:
            s = scores[a]["summaryScore"]
            if s["type"] != "PROBABILITY" or not 0.0 <= float(s["value"]) <= 1.0:
                return f"{a}: {s}"
    except (ValueError, KeyError, TypeError) as exc:
        return f"malformed answer: {exc!r}"
    return None


def run_level(port: int, clients: int, requests: int, seconds: float, texts: Sequence[str]) -> Level:
    level = Level(clients)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    counter = iter(range(requests))

    def client(cid: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
                if i is None:
                    break
                level.sent += 1
            token = f"c{clients}-r{i}"
            body = json.dumps(
                {
                    "comment": {"text": texts[i % len(texts)]},
                    "requestedAttributes": {a: {} for a in ATTRS},
                    "languages": ["en"],
                    "clientToken": token,
                }
            ).encode()
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/v1alpha1/comments:analyze", body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    level.lost.append(f"{token}: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                continue
            spent = time.perf_counter() - t0
            problem = check(resp.status, data, token)
            with lock:
                if problem:
                    level.bad.append(f"{token}: {problem}")
                else:
                    level.latencies.append(spent)
        conn.close()

    before = _get(port, "/healthz")["batches"]
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    level.wall_s = time.perf_counter() - t0
    level.batches = _get(port, "/healthz")["batches"] - before  # exact with one worker process
    return level


def _get(port: int, path: str) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, workers: int, config: str | None, log: Path, startup_s: float) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", "from discourse.cli import main; main()", "serve", "--port", str(port)]
    cmd += ["--workers", str(workers), "--log-level", "warning"] + (["--config", config] if config else [])
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    end = time.monotonic() + startup_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}; see {log}")
        try:
            if _get(port, "/healthz").get("status") == "ok":
                return proc
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"the server was not up after {startup_s:g} s; see {log}")


def run(
    levels: Sequence[int], requests: int, seconds: float, workers: int = 1, config: str | None = None
) -> dict[str, Any]:
    port = _free_port()
    log = Path(tempfile.mkdtemp(prefix="discourse-loadtest-")) / "server.log"
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    proc = start_server(port, workers, config, log, startup_s=600)
    startup = time.monotonic() - t0
    texts = corpus()
    try:
        models = _get(port, "/v1/models")
        run_level(port, 1, 5, 30, texts)  # a few requests first: the first pass of a process is slower
        rows = []
        for n in levels:
            level = run_level(port, n, requests, seconds, texts)
            row = level.row()
            if workers > 1:
                row["requests_per_pass"] = None  # /healthz answers for one process only
            rows.append(row)
            print(json.dumps(row), flush=True)
            for problem in (level.bad + level.lost)[:5]:
                print("  problem:", problem, file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait(30)
    load_after = os.getloadavg()[0]
    return {
        "workers": workers,
        "startup_s": round(startup, 1),
        "rows": rows,
        "models": models,
        "load": (round(load, 1), round(load_after, 1)),
    }


def render(runs: Sequence[dict[str, Any]], command: str, requests: int, seconds: float) -> str:
    first = runs[0]
    models = ", ".join(f"{m['name']} {m['version']}" for m in first["models"]["models"])
    pipeline = " → ".join(first["models"]["pipelines"]["comments"])
    lines = [
        "# discourse serve: load test on loopback",
        "",
        f"Command: `{command}` (written by `discourse/serve/loadtest.py`).",
        "",
        f"Machine: {os.cpu_count()} CPU cores ({platform.machine()}, {platform.python_implementation()}"
        f" {platform.python_version()}), shared with other work while this ran (1-minute load average "
        + ", ".join(f"{a} before and {b} after the {r['workers']}-worker run" for r in runs for a, b in [r["load"]])
        + "); the clients run on the same machine as the server. Each level sends Perspective requests"
        " (TOXICITY, INSULT, THREAT, PROFANITY;"
        f" {len(corpus())} different comments of 10 to 70 words) from N concurrent clients, each on its own"
        f" keep-alive connection, until {requests} requests or {seconds:g} s. Every answer is checked: HTTP 200,"
        " the request's own clientToken, every attribute a probability in 0..1. *lost* = no answer at all.",
        "",
        f"Models (the default config): {models}. Comment pipeline: {pipeline}.",
        "",
        "| server workers | clients | sent | ok | bad | lost | p50 ms | p99 ms | requests/s | requests per pass |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        for row in r["rows"]:
            per_pass = "—" if row["requests_per_pass"] is None else f"{row['requests_per_pass']}"
            lines.append(
                f"| {r['workers']} | {row['clients']} | {row['sent']} | {row['ok']} | {row['bad']} | {row['lost']} |"
                f" {row['p50_ms']} | {row['p99_ms']} | {row['rps']} | {per_pass} |"
            )
    best = max(row["rps"] for r in runs for row in r["rows"])
    lines += [
        "",
        f"For comparison: Perspective's published default quota is **{PERSPECTIVE_DEFAULT_QPS:g} query per second**"
        f" per project; the best level here answered **{best:g} requests/s**,"
        f" about {best / PERSPECTIVE_DEFAULT_QPS:.0f}× that quota, with no network round trip to Google.",
        "",
        "Server start-up (loading and verifying the models, one warm-up pass) took "
        + ", ".join(f"{r['startup_s']} s with {r['workers']} worker(s)" for r in runs)
        + ". Micro-batching: concurrent requests wait up to 10 ms (`--batch-window-ms`) and run as one pipeline"
        " pass; *requests per pass* (per pipeline pass) is read from /healthz (one worker process only).",
        "",
        "Reading the numbers: with one client, latency is the batching window plus one pipeline pass over one"
        " comment. With more clients, requests that arrive together share a pass, so throughput grows with"
        " concurrency until the process is CPU-bound; from there a bigger pass saves only the fixed cost per"
        " pass, requests/s levels off and latency grows with the number of requests waiting."
        " More free cores (several `--workers`, or another machine behind a load"
        " balancer) raise throughput; on a machine busy with other work, as here, every number is lower and"
        " noisier than on an idle one. The raw numbers are in `reports/serve.json`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32], help="concurrency levels")
    ap.add_argument("--requests", type=int, default=600, help="at most this many requests per level")
    ap.add_argument("--seconds", type=float, default=30.0, help="at most this long per level")
    ap.add_argument("--workers", type=int, nargs="+", default=[1], help="server processes (one run each)")
    ap.add_argument("--config", help="server config (default: the shipped default models)")
    ap.add_argument("--out", default="reports/serve.md", help="the report to write ('-' = none)")
    args = ap.parse_args(argv)
    runs = [run(args.clients, args.requests, args.seconds, w, args.config) for w in args.workers]
    failed = sum(row["bad"] + row["lost"] for r in runs for row in r["rows"])
    if args.out != "-":
        command = "python scripts/loadtest.py " + " ".join(argv if argv is not None else sys.argv[1:])
        out = Path(args.out)
        out.write_text(render(runs, command.strip(), args.requests, args.seconds), encoding="utf-8")
        out.with_suffix(".json").write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {out} and {out.with_suffix('.json')}", file=sys.stderr)
    return 1 if failed else 0
