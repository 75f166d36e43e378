"""A whole class against the real server: ``python bench/server_load.py [--write]``.

Starts ``redis-server`` (free loopback port, temporary directory) and the server
as the Procfile runs it (gunicorn, one gevent worker, on 127.0.0.1, with
``REDIS_URL`` set), creates a classic session of ``--teams`` teams, connects a
facilitator, a projector and ``--players`` players per team over Socket.IO
(``socketio.AsyncClient`` on one asyncio loop, websocket transport), starts the
game and plays ``--weeks`` weeks: every player waits for its week's ``state``,
thinks for a random time and submits. Measured:

Like the player page, each player also loads the public session info
(``GET /api/sessions/<code>``) once, when its first state arrives.

- submit ack latency: from sending ``submit`` to its ack;
- delivery: from a team's last submission being sent to the last of its players
  receiving the next week's ``state``;
- server CPU seconds per week (user + system of the gunicorn worker, from /proc),
  and of redis-server and of this load generator for comparison;
- Redis memory (``used_memory``) at the end.

Everything is loopback traffic; every wait is bounded and the run stops by
itself. ``--write`` puts the figures in the "## Server" section of
docs/PERFORMANCE.md. Needs the ``bench`` extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import random
import shlex
import shutil
import signal
import socket
import statistics
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
import socketio
from perfdoc import DOC, write_section

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"
REDIS_BIN = shutil.which("redis-server") or "/usr/bin/redis-server"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Any, timeout: float, what: str) -> None:
    """Poll ``check`` until it is truthy; ``RuntimeError`` after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if check():
                return
        except (OSError, redis.RedisError, requests.RequestException):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


def procfile_command(port: int) -> list[str]:
    """The Procfile's ``web`` command (it listens on ``$HOST:$PORT``: the caller sets them)."""
    line = next(x for x in PROCFILE.read_text().splitlines() if x.startswith("web:"))
    cmd = shlex.split(line.removeprefix("web:").strip())
    if cmd[0] != "gunicorn":
        raise RuntimeError(f"unexpected Procfile command: {line}")
    return [sys.executable, "-m", "gunicorn", *cmd[1:]]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid``."""
    raw = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(x) for x in raw]


@dataclass
class Servers:
    """The redis-server and gunicorn subprocesses of one run."""

    tmp: str
    redis_port: int
    port: int
    redis_proc: subprocess.Popen[bytes] | None = None
    web_proc: subprocess.Popen[bytes] | None = None
    worker: int = 0
    log: Path = field(default_factory=Path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        opts = ["--bind", "127.0.0.1", "--dir", self.tmp, "--save", "", "--appendonly", "no", "--protected-mode", "yes"]
        self.redis_proc = subprocess.Popen(
            [REDIS_BIN, "--port", str(self.redis_port), *opts],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.redis_port)
        wait_for(client.ping, 20, "redis-server")
        env = {k: v for k, v in os.environ.items() if k not in ("ASYNC_MODE", "MESSAGE_QUEUE")}
        env.update(REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0", PYTHONUNBUFFERED="1", HOST="127.0.0.1")
        env["PORT"] = str(self.port)
        self.log = Path(self.tmp) / "server.log"
        with open(self.log, "wb") as out:
            self.web_proc = subprocess.Popen(
                procfile_command(self.port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

        def up() -> bool:
            if self.web_proc is not None and self.web_proc.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log.read_text(errors='replace')}")
            return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200

        wait_for(up, 60, "the server")
        workers = children(self.web_proc.pid)
        if len(workers) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {workers}")
        self.worker = workers[0]

    def redis_pid(self) -> int:
        assert self.redis_proc is not None
        return self.redis_proc.pid

    def redis_memory(self) -> int:
        return int(redis.Redis(port=self.redis_port).info("memory")["used_memory"])

    def stop(self) -> None:
        for proc in (self.web_proc, self.redis_proc):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=15)


@dataclass
class Results:
    acks: list[float] = field(default_factory=list)
    acks_by_week: dict[int, list[float]] = field(default_factory=dict)
    delivery: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # (team, week) -> send time of each submission / receive time of the next week's state
    sent: dict[tuple[int, int], list[float]] = field(default_factory=dict)
    got: dict[tuple[int, int], list[float]] = field(default_factory=dict)


class Player:
    """One simulated student: joins a seat, then decides each week after a think time."""

    def __init__(
        self, url: str, code: str, team: int, role: str, res: Results, rng: random.Random, http: aiohttp.ClientSession
    ) -> None:
        self.url, self.code, self.team, self.role = url, code, team, role
        self.res, self.rng, self.http = res, rng, http
        self.fetches: set[asyncio.Task[None]] = set()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.week = 0
        self.changed = asyncio.Event()
        self.sio.on("state", self._on_state)

    async def _on_state(self, st: dict[str, Any]) -> None:
        week = int(st["team"]["week"])
        if week > self.week:
            if self.week == 0:  # the player page loads the public session info once: so do we
                task = asyncio.ensure_future(self._session_info())
                self.fetches.add(task)
                task.add_done_callback(self.fetches.discard)
            self.week = week
            self.res.got.setdefault((self.team, week), []).append(time.perf_counter())
        self.changed.set()

    async def _session_info(self) -> None:
        for attempt in range(2):  # a kept-alive connection the server just closed: once more, like a browser
            try:
                async with self.http.get(f"{self.url}/api/sessions/{self.code}") as r:
                    if r.status != 200:
                        self.res.errors.append(f"GET /api/sessions: {r.status}")
                    await r.read()
                    return
            except aiohttp.ClientError as exc:
                if attempt:
                    self.res.errors.append(f"GET /api/sessions: {exc!r}")

    async def connect(self) -> None:
        await self.sio.connect(self.url, transports=["websocket"], wait_timeout=30)
        ack = await self.sio.call(
            "join",
            {"code": self.code, "name": f"P{self.team}-{self.role}", "team": self.team, "role": self.role},
            timeout=60,
        )
        if not ack.get("ok"):
            raise RuntimeError(f"join failed: {ack}")

    async def play(self, weeks: int, think: float, timeout: float) -> None:
        for week in range(1, weeks + 1):
            end = time.monotonic() + timeout
            while self.week < week:
                self.changed.clear()
                await asyncio.wait_for(self.changed.wait(), max(0.01, end - time.monotonic()))
            await asyncio.sleep(self.rng.uniform(0.1, think))
            t0 = time.perf_counter()
            self.res.sent.setdefault((self.team, week), []).append(t0)
            ack = await self.sio.call("submit", {"week": week, "value": self.rng.randint(2, 8)}, timeout=timeout)
            self.res.acks.append(time.perf_counter() - t0)
            self.res.acks_by_week.setdefault(week, []).append(self.res.acks[-1])
            if not ack.get("ok"):
                self.res.errors.append(f"team {self.team} {self.role} week {week}: {ack['error']['code']}")
        end = time.monotonic() + timeout
        while self.week <= weeks:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.01, end - time.monotonic()))


async def run_class(srv: Servers, args: argparse.Namespace) -> dict[str, Any]:
    """Create the session, connect everyone, play, and return the figures."""
    body = {"scenario": "classic", "teams": args.teams, "weeks": args.weeks + 2, "seed": args.seed}
    created = requests.post(f"{srv.url}/api/sessions", json=body, timeout=30).json()
    code, secret = created["code"], created["facilitator_secret"]
    res = Results()
    rng = random.Random(args.seed)
    roles = requests.get(f"{srv.url}/api/sessions/{code}", timeout=30).json()["roles"]
    seats = [(n, role) for n in range(1, args.teams + 1) for role in list(reversed(roles))[: args.players]]
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50))
    players = [Player(srv.url, code, n, r, res, random.Random(rng.random()), http) for n, r in seats]

    facilitator = socketio.AsyncClient(reconnection=False)
    projector = socketio.AsyncClient(reconnection=False)
    counts = {"dashboard": 0, "leaderboard": 0}

    def count(name: str) -> Any:
        async def on(_: Any) -> None:
            counts[name] += 1

        return on

    facilitator.on("dashboard", count("dashboard"))
    projector.on("leaderboard", count("leaderboard"))
    await facilitator.connect(srv.url, transports=["websocket"])
    await projector.connect(srv.url, transports=["websocket"])
    assert (await facilitator.call("facilitate", {"code": code, "secret": secret}, timeout=30))["ok"]
    assert (await projector.call("watch", {"code": code}, timeout=30))["ok"]

    gate = asyncio.Semaphore(20)

    async def connect(p: Player) -> None:
        async with gate:
            await p.connect()

    t = time.perf_counter()
    await asyncio.gather(*(connect(p) for p in players))
    join_seconds = time.perf_counter() - t
    await asyncio.sleep(1.0)

    cpu0 = cpu_seconds(srv.worker)
    rcpu0 = cpu_seconds(srv.redis_pid())
    own0 = time.process_time()
    spy = None
    if args.profile:
        spy = subprocess.Popen(
            ["py-spy", "record", "--pid", str(srv.worker), "--format", "raw", "--nonblocking", "-o", args.profile],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    t0 = time.perf_counter()
    assert (await facilitator.call("control", {"action": "start"}, timeout=30))["ok"]
    await asyncio.gather(*(p.play(args.weeks, args.think, args.timeout) for p in players))
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(srv.worker) - cpu0
    rcpu = cpu_seconds(srv.redis_pid()) - rcpu0
    own = time.process_time() - own0
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)

    for (team, week), sent in res.sent.items():
        got = res.got.get((team, week + 1), [])
        if len(sent) == args.players and len(got) == args.players:
            res.delivery.append(max(got) - max(sent))
        else:
            res.errors.append(f"team {team} week {week}: {len(sent)} submissions, {len(got)} players saw the next week")
    memory = srv.redis_memory()
    for c in [facilitator, projector, *(p.sio for p in players)]:
        await c.disconnect()
    await asyncio.gather(*(t for p in players for t in p.fetches))
    await http.close()
    return {
        "code": code,
        "join_seconds": join_seconds,
        "wall": wall,
        "cpu": cpu,
        "redis_cpu": rcpu,
        "own_cpu": own,
        "memory": memory,
        "acks": res.acks,
        "acks_by_week": res.acks_by_week,
        "delivery": res.delivery,
        "errors": res.errors,
        "dashboards": counts["dashboard"],
        "leaderboards": counts["leaderboard"],
    }


def spread(values: list[float]) -> tuple[float, float, float]:
    """Median, 95th percentile and maximum."""
    xs = sorted(values)
    p95 = xs[min(len(xs) - 1, max(0, round(0.95 * len(xs)) - 1))]
    return statistics.median(xs), p95, xs[-1]


def table(fig: dict[str, Any], args: argparse.Namespace) -> str:
    """The figures as a Markdown table."""
    a, d = spread(fig["acks"]), spread(fig["delivery"])
    ms = " | ".join
    rows = [
        "| measure | median | p95 | max |",
        "| --- | ---: | ---: | ---: |",
        f"| submit ack ({len(fig['acks'])} submissions) | {ms(f'{x * 1000:.0f} ms' for x in a)} |",
        f"| last submission → new week at all {args.players} players ({len(fig['delivery'])} team-weeks) | "
        f"{ms(f'{x * 1000:.0f} ms' for x in d)} |",
    ]
    weeks = args.weeks
    return "\n".join(
        [
            *rows,
            "",
            "| | |",
            "| --- | ---: |",
            f"| wall time for {weeks} weeks | {fig['wall']:.1f} s |",
            f"| server CPU (gunicorn worker) | {fig['cpu']:.1f} s, {fig['cpu'] / weeks:.2f} s per week |",
            f"| redis-server CPU | {fig['redis_cpu']:.1f} s, {fig['redis_cpu'] / weeks:.2f} s per week |",
            f"| load generator CPU (same machine) | {fig['own_cpu']:.1f} s |",
            f"| Redis memory at the end (`used_memory`) | {fig['memory'] / 1e6:.1f} MB |",
            f"| joining {args.teams * args.players} players | {fig['join_seconds']:.1f} s |",
            f"| dashboards / leaderboards received | {fig['dashboards']} / {fig['leaderboards']} |",
            f"| errors | {len(fig['errors'])} |",
        ]
    )


def machine() -> str:
    names = [x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in x]
    cpu = names[0] if names else "unknown CPU"
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), CPython {platform.python_version()}, load average {load:.1f} before the run"
    )


SECTION = """## Server

A class of {players} players ({teams} teams of {per_team}) playing {weeks} weeks of the classic game against one
gevent worker (the Procfile, `config/gunicorn.conf.py`) and a local redis-server. Every player thinks
0.1–{think} s before each submission and, like the player page, fetches `GET /api/sessions/<code>`
once, when it joins. A facilitator and a projector are connected too. The clients are
`socketio.AsyncClient`s (websocket) on one asyncio loop on the same two cores as the server, so
the figures include that contention (and whatever else the machine was running). The load
generator needs the `bench` extra (`pip install -e '.[bench]'`: aiohttp, and py-spy for `--profile`).

```
{command}
```

{table}

Measured {today}: {facts}.

Targets: acks well under 0.5 s (median), a new week at every player of a team within about 1 s
of the team's last submission. Tails (p95, max) move with the rest of the machine's load; the
medians are stable.

Where a submission's time goes, and what keeps it small (`--profile FILE` records the worker
with py-spy while the class plays):

- Redis round trips dominate. A submission costs one pipeline (the session hash and the team's
  week, state and CODP) and the Lua script; the `state` that follows two more (the session hash,
  and a `team_snapshot` that also brings the round timer and the new week records). The week's
  advance reuses the session read by the submission and the seats read by its snapshot.
- A seat's `view` and history change only when the week does. They are computed and
  JSON-encoded once per team state (`web.views._seat_view`, `web.wire.Raw`) and spliced into
  each `state` packet, so the three teammates' submissions of a week re-send them without
  recomputing, re-encoding or re-walking them. Parsed `GameState`s are kept per team the same way.
- `GET /api/sessions/<code>` (once per player page) reads every team in one pipeline, is kept
  for at most two ticks (anything but a submission drops it at once) and built once however
  many requests wait for it.
- A teammate's decision sends the small `decided`, not four whole states. The `dashboard_update`
  (changed rows only) and the projector's `leaderboard` go out at most once per tick per
  session, the players' `standings` at most every two seconds; money per team is cached per
  played week. The "Lecture hall" section has the figures for 250 to 500 teams.

Before these changes (commit fa10cec) the same command measured 789 ms median / 1469 ms p95
per ack, 944 ms median from a team's last submission to its new week, and 3.5 s of server CPU
per week: the session info read each team with its own round trip, and every teammate's
submission rebuilt and re-encoded four full player states."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=50, help="teams in the session (default 50)")
    parser.add_argument("--players", type=int, default=4, choices=range(1, 5), help="players per team (default 4)")
    parser.add_argument("--weeks", type=int, default=10, help="weeks to play (default 10)")
    parser.add_argument("--think", type=float, default=3.0, help="longest think time in seconds (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=120.0, help="longest wait for any one event (seconds)")
    parser.add_argument("--profile", metavar="FILE", help="py-spy the worker while playing (collapsed stacks)")
    parser.add_argument("--write", action="store_true", help="update the Server section of docs/PERFORMANCE.md")
    args = parser.parse_args(argv)
    facts = machine()
    command = "python bench/server_load.py " + " ".join(a for a in (argv if argv is not None else sys.argv[1:]))
    with tempfile.TemporaryDirectory(prefix="bg-load-") as tmp:
        srv = Servers(tmp, free_port(), free_port())
        try:
            srv.start()
            fig = asyncio.run(asyncio.wait_for(run_class(srv, args), args.timeout * (args.weeks + 2)))
        finally:
            srv.stop()
    text = table(fig, args)
    print(text)
    print(
        "ack median / max by week:",
        ", ".join(
            f"{w}: {statistics.median(a) * 1000:.0f}/{max(a) * 1000:.0f} ms"
            for w, a in sorted(fig["acks_by_week"].items())
        ),
    )
    for err in fig["errors"][:10]:
        print("error:", err)
    if args.write:
        today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
        write_section(
            "Server",
            SECTION.format(
                players=args.teams * args.players,
                teams=args.teams,
                per_team=args.players,
                weeks=args.weeks,
                think=f"{args.think:g}",
                command=command.strip(),
                table=text,
                today=today,
                facts=facts,
            ),
        )
        print(f"wrote the Server section of {DOC}")
    return 1 if fig["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
