"""A protocol client that joins a seat and plays it with any engine policy.

    python -m web.bot --url http://localhost:5000 --code K7QX2M --policy sterman
    python -m web.bot --url ... --code ... --team 2 --role factory --policy "base_stock:level=30"

It speaks only the documented protocol (docs/PROTOCOL.md): ``join`` (or
``resume`` with ``--token``), then one ``submit`` per ``state`` that asks for a
decision, until the game is over.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

import socketio

from game.policies import Policy, PolicyError, parse_policy


class SeatBot:
    """Plays one seat: decides with ``policy`` whenever a ``state`` asks for a decision."""

    def __init__(self, url: str, policy: Policy, timeout: float = 10.0, patience: float = 120.0) -> None:
        self.url = url
        self.policy = policy
        self.timeout = timeout
        self.patience = patience  # how long to retry while the server answers "unavailable"
        self.sio = socketio.Client(reconnection=True)
        self.memory: dict[str, Any] = {}
        self.submitted: set[int] = set()
        self.seat: dict[str, Any] = {}
        self.token: str | None = None
        self.finished = threading.Event()
        self.errors: list[dict[str, Any]] = []
        self.weeks_played = 0
        self._lock = threading.Lock()
        self.sio.on("state", self._on_state)
        self.sio.on("game_over", lambda *_: self.finished.set())
        self.sio.on("error", lambda err: self.errors.append(err))
        self.sio.on("connect", self._on_connect)

    def _on_connect(self) -> None:
        if self.token and self.seat:  # a reconnect: take the seat back
            self.sio.start_background_task(self._resume)

    def _resume(self) -> None:
        self.call("resume", {"token": self.token})

    def call(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Emit ``event`` and wait for its ack; while the server answers ``unavailable``
        (its store is unreachable) try again, a little slower each time, for ``patience`` seconds."""
        deadline = time.monotonic() + self.patience
        pause = 0.25
        while True:
            ack = self.sio.call(event, payload, timeout=self.timeout)
            if ack.get("ok") or ack["error"]["code"] != "unavailable" or time.monotonic() + pause > deadline:
                return ack
            time.sleep(pause)
            pause = min(pause * 2, 4.0)

    def join(self, code: str, name: str, team: int | None = None, role: str | None = None) -> dict[str, Any]:
        """Connect and take a seat; returns the ack (with the seat token)."""
        self.sio.connect(self.url, wait_timeout=self.timeout)
        payload: dict[str, Any] = {"code": code, "name": name}
        if team is not None:
            payload["team"] = team
        if role is not None:
            payload["role"] = role
        ack = self.call("join", payload)
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack['error']['code']}: {ack['error']['message']}")
        self.token, self.seat = ack["token"], ack
        return ack

    def resume(self, token: str) -> dict[str, Any]:
        """Connect and reclaim the seat of ``token``."""
        self.sio.connect(self.url, wait_timeout=self.timeout)
        self.token = token
        ack = self.call("resume", {"token": token})
        if not ack.get("ok"):
            raise RuntimeError(f"resume refused: {ack['error']['code']}: {ack['error']['message']}")
        self.seat = ack
        return ack

    def _on_state(self, state: dict[str, Any]) -> None:
        view, session = state["view"], state["session"]
        if state["team"]["done"] or session["status"] == "over":
            self.finished.set()
            return
        if session["status"] != "running" or state["decided"] or state["seat"]["bot"]:
            return
        week = view["week"]
        with self._lock:
            if week in self.submitted:
                return
            self.submitted.add(week)
            value, self.memory = self.policy.decide(view["me"], self.memory, view)
        self.sio.start_background_task(self._submit, week, value)

    def _submit(self, week: int, value: int) -> None:
        ack = self.call("submit", {"week": week, "value": value})
        if ack.get("ok"):
            self.weeks_played += 1
        elif ack["error"]["code"] not in ("stale_week", "already_decided", "not_running"):
            self.errors.append(ack["error"])

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the game is over for this seat; False on timeout."""
        return self.finished.wait(timeout)

    def close(self) -> None:
        self.sio.disconnect()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m web.bot", description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="server base URL, e.g. http://localhost:5000")
    ap.add_argument("--code", help="the session's join code")
    ap.add_argument("--name", default="Bot", help="display name (1-30 characters)")
    ap.add_argument("--team", type=int, help="team number (default: first free seat)")
    ap.add_argument("--role", help="role, e.g. retailer (default: first free seat)")
    ap.add_argument("--token", help="resume the seat of this token instead of joining")
    ap.add_argument("--policy", default="sterman", help="engine policy spec, e.g. 'sterman:alpha=0.5'")
    ap.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    args = ap.parse_args(argv)
    try:
        policy = parse_policy(args.policy)
    except PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bot = SeatBot(args.url, policy)
    try:
        if args.token:
            seat = bot.resume(args.token)
        elif args.code:
            seat = bot.join(args.code, args.name, args.team, args.role)
        else:
            print("error: give --code (to join) or --token (to resume)", file=sys.stderr)
            return 2
    except (RuntimeError, socketio.exceptions.SocketIOError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"playing team {seat['team']} {seat['role']} with {policy.spec}; token {bot.token}", flush=True)
    done = bot.wait(args.timeout)
    bot.close()
    print(f"{'game over' if done else 'timed out'} after {bot.weeks_played} decisions", flush=True)
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
