"""A lecture hall against the real server, from a load generator that is not the bottleneck.

``python bench/load.py --teams 250 [--servers 2 [--split]] [--queue] [--weeks 8] [--write NAME | --ratio N]``

Starts a redis-server (free loopback port, temporary directory) and ``--servers``
server processes as the Procfile runs them (gunicorn, one gevent worker each;
``MESSAGE_QUEUE`` set when there are several, or with ``--queue``), creates a
classic session of ``--teams`` teams and plays ``--weeks`` weeks with four
players per team, a facilitator and a projector. With several servers the
players sit where ``config/haproxy.cfg`` puts the player page (which follows the
team ``route`` of its join ack): a team's four players on one server, the teams
taking turns (team ``n`` on server ``n % servers``). ``--split`` spreads each team's
players instead (seat ``i`` of team ``n`` on server ``(n + i) % servers``), as for
clients that ignore the route: the worst case for the servers.

The clients are raw websocket clients (Engine.IO 4 / Socket.IO 5 spoken by hand
over aiohttp, no python-socketio) in ``--procs`` worker processes, each running
one asyncio loop for its share of the teams. Each player, like the player page,
fetches the public session info once when it joins, then waits for its week's
``state``, thinks 0.1 s to ``--think`` seconds and submits.

Reported: submit ack and "last submission of a team → new week at all four
seats" p50/p95/p99, team-weeks per second, CPU per team-week of the server
workers and of redis-server, the load generator's own CPU and event-loop lag
(so that a slow generator shows), bytes the clients received, and errors. Every
wait is bounded (``--timeout`` per event, the whole run by ``--deadline``), the
clients are capped (``MAX_TEAMS`` 500) and it all stops by itself. Loopback
only. Needs aiohttp (the ``bench`` and ``test`` extras). ``--write NAME`` records
the figures as row ``NAME`` of the "Lecture hall" section of docs/PERFORMANCE.md.
``--ratio N`` runs N pairs instead: one process without the queue, then the
configuration asked for, on the same class, and prints the ratio of their server
CPU per team-week (a single run moves by 10-20 % on a shared machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis
import requests
from perfdoc import DOC
from procs import REDIS_BIN, ROOT, children, cpu_seconds, free_port, machine, procfile_command, wait_for

MAX_TEAMS = 500
ROLES = ("retailer", "wholesaler", "distributor", "factory")
SECTION = "Lecture hall"


# -- the servers ------------------------------------------------------------------


@dataclass
class Cluster:
    """redis-server and the server processes of one run."""

    tmp: str
    servers: int
    queue: bool
    redis_port: int = field(default_factory=free_port)
    ports: list[int] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: list[int] = field(default_factory=list)
    redis_proc: subprocess.Popen[bytes] | None = None
    code: Path = ROOT  # the checkout whose server runs

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def start(self) -> None:
        opts = ["--bind", "127.0.0.1", "--dir", self.tmp, "--save", "", "--appendonly", "no", "--protected-mode", "yes"]
        self.redis_proc = subprocess.Popen(
            [REDIS_BIN, "--port", str(self.redis_port), *opts],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(redis.Redis(port=self.redis_port).ping, 20, "redis-server")
        url = f"redis://127.0.0.1:{self.redis_port}/0"
        for k in range(self.servers):
            port = free_port()
            env = {k2: v for k2, v in os.environ.items() if k2 not in ("ASYNC_MODE", "MESSAGE_QUEUE")}
            env.update(REDIS_URL=url, HOST="127.0.0.1", PORT=str(port), PYTHONUNBUFFERED="1", PYTHONPATH=str(self.code))
            env["MAX_TEAMS"] = str(MAX_TEAMS)  # the server's default (300) is below this bench's largest class
            if self.queue or self.servers > 1:
                env["MESSAGE_QUEUE"] = url
            log = open(Path(self.tmp) / f"server{k}.log", "wb")  # noqa: SIM115 - lives as long as the server
            self.procs.append(
                subprocess.Popen(procfile_command(port), cwd=self.code, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
            self.ports.append(port)
        for proc, base in zip(self.procs, self.urls, strict=True):

            def up(proc: subprocess.Popen[bytes] = proc, base: str = base) -> bool:
                if proc.poll() is not None:
                    raise RuntimeError(f"a server exited; see its log in {self.tmp}")
                return requests.get(f"{base}/healthz", timeout=2).status_code == 200

            wait_for(up, 60, "the server")
            kids = children(proc.pid)
            if len(kids) != 1:
                raise RuntimeError(f"expected one gunicorn worker, found {kids}")
            self.workers.append(kids[0])

    def server_cpu(self) -> float:
        return sum(cpu_seconds(w) for w in self.workers)

    def redis_cpu(self) -> float:
        assert self.redis_proc is not None
        return cpu_seconds(self.redis_proc.pid)

    def stop(self) -> None:
        for proc in [*self.procs, self.redis_proc]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=15)


# -- a raw Socket.IO client -------------------------------------------------------------


class Socket:
    """One Socket.IO connection over a raw websocket: events with acks, pings answered."""

    def __init__(self, http: aiohttp.ClientSession, base: str, on_event: Any, stats: dict[str, float]) -> None:
        self.http, self.base, self.on_event, self.stats = http, base, on_event, stats
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.acks: dict[int, asyncio.Future[Any]] = {}
        self.next_id = 0
        self.reader: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    async def connect(self, timeout: float) -> None:
        url = self.base.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await self.http.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=timeout), max_msg_size=0)
        self.reader = asyncio.ensure_future(self._read())
        await self.ws.send_str("40")
        await asyncio.wait_for(self.ready.wait(), timeout)

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            text: str = msg.data
            self.stats["bytes"] += len(text)
            if text == "2":
                await self.ws.send_str("3")
            elif text.startswith("40"):
                self.ready.set()
            elif text.startswith("42"):
                name, data = json.loads(text[2:])
                self.on_event(name, data)
            elif text.startswith("43"):
                i = text.index("[")
                fut = self.acks.pop(int(text[2:i]), None)
                if fut is not None and not fut.done():
                    fut.set_result(json.loads(text[i:])[0])

    async def call(self, event: str, data: Any, timeout: float) -> Any:
        assert self.ws is not None
        self.next_id += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.acks[self.next_id] = fut
        await self.ws.send_str(f"42{self.next_id}" + json.dumps([event, data], separators=(",", ":")))
        return await asyncio.wait_for(fut, timeout)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()


@dataclass
class Record:
    """What one worker process measured."""

    acks: list[float] = field(default_factory=list)
    sent: dict[str, float] = field(default_factory=dict)  # "team:week:role" -> submit sent
    got: dict[str, float] = field(default_factory=dict)  # "team:week:role" -> that week's state arrived
    errors: list[str] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)
    bytes: float = 0.0
    cpu: float = 0.0


class Player:
    def __init__(self, sock_base: str, http: aiohttp.ClientSession, code: str, team: int, role: str, rec: Record,
                 rng: random.Random, args: argparse.Namespace, stats: dict[str, float]) -> None:  # fmt: skip
        self.code, self.team, self.role, self.rec, self.rng, self.args = code, team, role, rec, rng, args
        self.http, self.base = http, sock_base
        self.sock = Socket(http, sock_base, self._on_event, stats)
        self.week = 0
        self.submitted = 0
        self.finished = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()

    def _on_event(self, name: str, data: Any) -> None:
        if name != "state":
            return
        week = int(data["team"]["week"])
        if week > self.week:
            self.week = week
            self.rec.got[f"{self.team}:{week}:{self.role}"] = time.perf_counter()
        if week > self.args.weeks:
            self.finished.set()
            return
        running = data["session"]["status"] == "running"
        if running and not data["decided"] and not data["team"]["done"] and self.submitted < week:
            self.submitted = week
            task = asyncio.ensure_future(self._submit(week))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _submit(self, week: int) -> None:
        await asyncio.sleep(self.rng.uniform(0.1, self.args.think))
        t0 = time.perf_counter()
        self.rec.sent[f"{self.team}:{week}:{self.role}"] = t0
        try:
            ack = await self.sock.call("submit", {"week": week, "value": self.rng.randint(2, 8)}, self.args.timeout)
        except TimeoutError:
            self.rec.errors.append(f"submit team {self.team} {self.role} week {week}: no ack")
            return
        self.rec.acks.append(time.perf_counter() - t0)
        if not ack.get("ok"):
            self.rec.errors.append(f"submit team {self.team} {self.role} week {week}: {ack['error']['code']}")

    async def join(self) -> None:
        await self.sock.connect(self.args.timeout)
        async with self.http.get(f"{self.base}/api/sessions/{self.code}") as r:  # the page loads the seats once
            await r.read()
            if r.status != 200:
                self.rec.errors.append(f"GET /api/sessions: {r.status}")
        ack = await self.sock.call(
            "join", {"code": self.code, "name": f"P{self.team}{self.role[0]}", "team": self.team, "role": self.role},
            self.args.timeout,
        )  # fmt: skip
        if not ack.get("ok"):
            raise RuntimeError(f"join failed: {ack}")


async def _lag_monitor(rec: Record, stop: asyncio.Event) -> None:
    """How late this loop wakes up from a 50 ms sleep: a busy generator shows here."""
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(0.05)
        rec.lag.append(time.perf_counter() - t - 0.05)


async def _worker_main(k: int, urls: list[str], code: str, teams: list[int], args: argparse.Namespace,
                       out: Any) -> Record:  # fmt: skip
    rec = Record()
    stats = {"bytes": 0.0}
    stop = asyncio.Event()
    monitor = asyncio.ensure_future(_lag_monitor(rec, stop))
    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn) as http:
        rng = random.Random(args.seed * 1000 + k)
        where = lambda n, i: urls[(n + i * args.split) % len(urls)]  # noqa: E731 - see the module docstring
        players = [
            Player(where(n, i), http, code, n, role, rec, random.Random(rng.random()), args, stats)
            for n in teams
            for i, role in enumerate(ROLES)
        ]
        gate = asyncio.Semaphore(25)

        async def join(p: Player) -> None:
            async with gate:
                await p.join()

        t = time.perf_counter()
        await asyncio.gather(*(join(p) for p in players))
        out.put(("ready", k, time.perf_counter() - t))
        cpu0 = time.process_time()
        bytes0 = stats["bytes"]
        try:
            await asyncio.wait_for(
                asyncio.gather(*(p.finished.wait() for p in players)), args.timeout * (args.weeks + 2)
            )
        except TimeoutError:
            late = [f"{p.team}:{p.role}@{p.week}" for p in players if not p.finished.is_set()]
            rec.errors.append(f"{len(late)} players did not reach the end: {late[:5]}")
        rec.cpu = time.process_time() - cpu0
        rec.bytes = stats["bytes"] - bytes0
        stop.set()
        await monitor
        for p in players:
            await p.sock.close()
    return rec


def worker(k: int, urls: list[str], code: str, teams: list[int], args: argparse.Namespace, out: Any) -> None:
    """One load-generator process: its share of the teams on one asyncio loop."""
    try:
        rec = asyncio.run(_worker_main(k, urls, code, teams, args, out))
        out.put(("result", k, rec.__dict__))
    except BaseException as exc:  # report, never hang the parent
        out.put(("failed", k, repr(exc)))


# -- the run ----------------------------------------------------------------------


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * len(s)) - 1))] if s else float("nan")


def start_workers(cluster: Cluster, args: argparse.Namespace) -> tuple[str, str, list[Any], Any]:
    """Create the session and fork the generator processes (before any event loop runs)."""
    base = cluster.urls[0]
    body = {"scenario": "classic", "teams": args.teams, "weeks": args.weeks + 2, "seed": args.seed}
    r = requests.post(f"{base}/api/sessions", json=body, timeout=30)
    if r.status_code != 201:
        raise RuntimeError(f"creating the session failed: {r.status_code} {r.text}")
    code, secret = r.json()["code"], r.json()["facilitator_secret"]
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    shares = [[n for n in range(1, args.teams + 1) if n % args.procs == k] for k in range(args.procs)]
    procs = [ctx.Process(target=worker, args=(k, cluster.urls, code, shares[k], args, out), daemon=True)
             for k in range(args.procs) if shares[k]]  # fmt: skip
    for p in procs:
        p.start()
    return code, secret, procs, out


async def _run(cluster: Cluster, args: argparse.Namespace, started: tuple[str, str, list[Any], Any]) -> dict[str, Any]:
    code, secret, procs, out = started
    counts = {"dashboard": 0, "dashboard_update": 0, "leaderboard": 0}
    fstats = {"bytes": 0.0}

    def count(name: str, _: Any) -> None:
        if name in counts:
            counts[name] += 1

    loop = asyncio.get_running_loop()

    def take(kind: str, n: int, deadline: float) -> dict[int, Any]:
        got: dict[int, Any] = {}
        while len(got) < n:
            try:
                what, k, data = out.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"load workers silent: {n - len(got)} missing ({kind})") from None
            if what == "failed":
                raise RuntimeError(f"load worker {k} failed: {data}")
            got[k] = data
        return got

    async with aiohttp.ClientSession() as http:
        fac = Socket(http, cluster.urls[-1], count, fstats)
        proj = Socket(http, cluster.urls[0], count, fstats)
        await fac.connect(args.timeout)
        await proj.connect(args.timeout)
        assert (await fac.call("facilitate", {"code": code, "secret": secret}, args.timeout))["ok"]
        assert (await proj.call("watch", {"code": code}, args.timeout))["ok"]
        end = time.monotonic() + args.deadline
        ready = await loop.run_in_executor(None, take, "ready", len(procs), end)
        join_seconds = max(ready.values())
        await asyncio.sleep(1.0)
        for c in counts:
            counts[c] = 0
        fbytes0 = fstats["bytes"]
        spies = []
        for k, pid in enumerate(cluster.workers if args.profile else []):  # py-spy each worker while playing
            cmd = [
                "py-spy",
                "record",
                "--pid",
                str(pid),
                "--format",
                "raw",
                "--nonblocking",
                "-o",
                f"{args.profile}.{k}",
            ]
            spies.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        cpu0, rcpu0, t0 = cluster.server_cpu(), cluster.redis_cpu(), time.perf_counter()
        assert (await fac.call("control", {"action": "start"}, args.timeout))["ok"]
        results = await loop.run_in_executor(None, take, "result", len(procs), end)
        wall = time.perf_counter() - t0
        cpu, rcpu = cluster.server_cpu() - cpu0, cluster.redis_cpu() - rcpu0
        for spy in spies:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        await fac.close()
        await proj.close()
    for p in procs:
        p.join(timeout=10)
    recs = [Record(**r) for r in results.values()]
    acks = [a for r in recs for a in r.acks]
    sent = {k: v for r in recs for k, v in r.sent.items()}
    got = {k: v for r in recs for k, v in r.got.items()}
    errors = [e for r in recs for e in r.errors]
    delivery = []
    for n in range(1, args.teams + 1):
        for w in range(1, args.weeks + 1):
            s = [sent.get(f"{n}:{w}:{r}") for r in ROLES]
            g = [got.get(f"{n}:{w + 1}:{r}") for r in ROLES]
            if None in s or None in g:
                errors.append(f"team {n} week {w}: missing submissions or states")
            else:
                delivery.append(max(g) - max(s))  # type: ignore[type-var]
    team_weeks = args.teams * args.weeks
    return {
        "code": code,
        "join_seconds": join_seconds,
        "wall": wall,
        "team_weeks": team_weeks,
        "cpu": cpu,
        "redis_cpu": rcpu,
        "gen_cpu": sum(r.cpu for r in recs),
        "lag": [x for r in recs for x in r.lag],
        "acks": acks,
        "delivery": delivery,
        "errors": errors,
        "bytes": sum(r.bytes for r in recs),
        "fac_bytes": fstats["bytes"] - fbytes0,
        "counts": counts,
    }


def summary(fig: dict[str, Any], args: argparse.Namespace) -> dict[str, str]:
    ms = lambda x: f"{x * 1000:.0f}"  # noqa: E731
    tw = fig["team_weeks"]
    return {
        "teams": f"{args.teams} ({args.teams * 4 + 2} clients)",
        "servers": f"{args.servers}"
        + (" + queue" if args.queue or args.servers > 1 else "")
        + (", teams split" if args.split and args.servers > 1 else ""),
        "ack p50/p95/p99 ms": "/".join(ms(pct(fig["acks"], q)) for q in (0.5, 0.95, 0.99)),
        "new week p50/p95/p99 ms": "/".join(ms(pct(fig["delivery"], q)) for q in (0.5, 0.95, 0.99)),
        "team-weeks/s": f"{tw / fig['wall']:.1f}",
        "server CPU ms/team-week": f"{fig['cpu'] / tw * 1000:.1f}",
        "server cores": f"{fig['cpu'] / fig['wall']:.2f}",
        "redis ms/team-week": f"{fig['redis_cpu'] / tw * 1000:.2f}",
        "generator cores, lag p99 ms": f"{fig['gen_cpu'] / fig['wall']:.2f}, {ms(pct(fig['lag'], 0.99))}",
        "players' KB/s": f"{fig['bytes'] / fig['wall'] / 1000:.0f}",
        "errors": str(len(fig["errors"])),
    }


def write_row(name: str, row: dict[str, str], command: str) -> None:
    """Put ``row`` as line ``name`` in the table of the section (made if missing), keeping the other rows."""
    text = DOC.read_text(encoding="utf-8")
    head = "| run | " + " | ".join(row) + " |"
    line = f"| {name} | " + " | ".join(row.values()) + " |"
    cmd = f"| {name} | `{command}` |"
    m = re.search(rf"^## {SECTION}\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    if not m:
        raise SystemExit(f"docs/PERFORMANCE.md has no '## {SECTION}' section with the marker tables")
    body = m.group(1)
    results = re.search(r"<!-- results -->\n(.*?)<!-- /results -->", body, flags=re.S)
    commands = re.search(r"<!-- commands -->\n(.*?)<!-- /commands -->", body, flags=re.S)
    if not results or not commands:
        raise SystemExit("the Lecture hall section needs the <!-- results --> and <!-- commands --> markers")

    def upsert(block: str, header: list[str], new: str) -> str:
        rows = [x for x in block.strip().splitlines()[2:] if x.strip() and not x.startswith(f"| {name} |")]
        return "\n".join([*header, *rows, new]) + "\n"

    sep = "| --- | " + " | ".join("---:" for _ in row) + " |"
    new_body = body.replace(results.group(1), upsert(results.group(1), [head, sep], line))
    new_body = new_body.replace(
        commands.group(1), upsert(commands.group(1), ["| run | command |", "| --- | --- |"], cmd)
    )
    DOC.write_text(text.replace(body, new_body), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=50, help=f"teams of four players (at most {MAX_TEAMS})")
    parser.add_argument("--servers", type=int, default=1, choices=range(1, 5), help="server processes (default 1)")
    parser.add_argument("--queue", action="store_true", help="set MESSAGE_QUEUE even with one server")
    parser.add_argument(
        "--split", action="store_true", help="each team's players on different servers (default: a team on one)"
    )
    parser.add_argument("--procs", type=int, default=max(1, min(4, os.cpu_count() or 1)), help="generator processes")
    parser.add_argument("--weeks", type=int, default=8, help="weeks to play (default 8)")
    parser.add_argument("--think", type=float, default=3.0, help="longest think time, seconds (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60.0, help="longest wait for any one event, seconds")
    parser.add_argument("--deadline", type=float, default=600.0, help="longest run, seconds (default 600)")
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy every server while playing (collapsed stacks in FILE.0, FILE.1, ...)"
    )
    parser.add_argument("--logs", metavar="DIR", help="keep the servers' logs in DIR")
    parser.add_argument("--write", metavar="NAME", help="record the figures as row NAME in docs/PERFORMANCE.md")
    parser.add_argument(
        "--ratio", type=int, metavar="N", help="N pairs of runs, one process then this one: CPU ratio per team-week"
    )
    parser.add_argument(
        "--against",
        metavar="DIR",
        help="with --ratio: the first run of each pair serves the code checked out in DIR (another commit) "
        "in this same configuration",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.teams <= MAX_TEAMS:
        parser.error(f"--teams must be 1 to {MAX_TEAMS}")
    command = "python bench/load.py " + " ".join(argv if argv is not None else sys.argv[1:])
    command = re.sub(r"\s*--(write|logs|profile) \S+", "", command).strip()
    if args.against and not args.ratio:
        parser.error("--against needs --ratio")
    args.code = None
    if args.ratio:
        return compare_with_one(args)
    fig = play(args)
    row = summary(fig, args)
    width = max(len(k) for k in row)
    for k, v in row.items():
        print(f"{k:<{width}}  {v}")
    print(f"dashboards {fig['counts']}, facilitator+projector {fig['fac_bytes'] / 1000:.0f} kB, "
          f"joining {fig['join_seconds']:.1f} s; {machine()}")  # fmt: skip
    for err in fig["errors"][:10]:
        print("error:", err)
    if args.write:
        write_row(args.write, row, command)
        print(f"wrote row {args.write!r} of the {SECTION} section of {DOC}")
    return 1 if fig["errors"] else 0


def play(args: argparse.Namespace) -> dict[str, Any]:
    """One run: start the cluster, play, stop it; the figures."""
    with tempfile.TemporaryDirectory(prefix="bg-load-") as tmp:
        cluster = Cluster(tmp, args.servers, args.queue, code=Path(args.code or ROOT).resolve())
        try:
            cluster.start()
            started = start_workers(cluster, args)
            return asyncio.run(asyncio.wait_for(_run(cluster, args, started), args.deadline + 60))
        finally:
            cluster.stop()
            if args.logs:
                shutil.copytree(tmp, args.logs, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.rdb", "*.aof"))


def compare_with_one(args: argparse.Namespace) -> int:
    """``--ratio N``: N runs of this configuration, each right after a run of one process
    without the queue on the same class (or, ``--against DIR``, of this configuration serving
    the code in DIR), and the ratio of their server CPU per team-week (on a shared machine one
    run's figure moves by 10-20 %; pairs cancel most of that)."""
    if args.against:
        one = argparse.Namespace(**{**vars(args), "code": args.against})
    else:
        one = argparse.Namespace(**{**vars(args), "servers": 1, "queue": False, "split": False})
    ratios, errors = [], 0
    for k in range(args.ratio):
        load = os.getloadavg()[0]
        base, this = play(one), play(args)
        errors += len(base["errors"]) + len(this["errors"])
        a, b = (f["cpu"] / f["team_weeks"] * 1000 for f in (base, this))
        ratios.append(b / a)
        first = "that code" if args.against else "one process"
        print(f"pair {k + 1}: {first} {a:.2f} ms/team-week, this {b:.2f}, ratio {b / a:.2f} "
              f"(load average {load:.2f} before)", flush=True)  # fmt: skip
    ratios.sort()
    print(f"ratio median {ratios[len(ratios) // 2]:.2f}, range {ratios[0]:.2f}-{ratios[-1]:.2f}; {machine()}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
