"""The payloads each client receives: a player's state, the facilitator's dashboard,
the public leaderboard and session info. Nothing else leaves the server."""

from __future__ import annotations

from typing import Any

from game.codp import describe_processes, positions_for, process_options, shop_mode
from game.comaker import in_force
from game.horizon import told, window
from game.jsonsafe import jsonsafe
from game.review import describe_position, is_review_week
from game.sales import seat_label
from game.sales import seats as sales_seats
from game.scoring import rank_teams, team_score, weeks_so_far
from game.state import GameState
from game.visibility import facilitator_view, history_entry, order_spread, public_chain, public_view, view
from web import wire
from web.errors import GameError
from web.play.scenarios import positions as scenario_positions
from web.play.sessions import SessionMeta
from web.store import Store
from web.store.records import Team, TeamSnapshot
from web.wire import Raw


def session_info(meta: SessionMeta, team: Team | None = None) -> dict[str, Any]:
    """The session part of every payload; ``deadline``/``paused`` of one team when given.
    Status and timer come from ``meta``, which the callers read fresh for each payload.
    ``weeks`` (the last week) only when the players know it (``end_known``)."""
    out = {
        "code": meta.code,
        "title": meta.base.title,
        "scenario": meta.settings.scenario,
        "status": meta.status,
        "paused": meta.status == "paused",
        **told(meta.end, meta.end_known),
        "round_seconds": meta.round_seconds or None,
        "codp_rule": meta.settings.codp_rule,
    }
    if team is not None:
        out["week"] = team.week
        out["deadline"] = team.deadline
        out["remaining"] = team.remaining
    return out


def facilitator_session(meta: SessionMeta) -> dict[str, Any]:
    """``session_info`` as the facilitator sees it: also the last week drawn (``weeks``), the
    weeks the game could end in (``end_window``) and the planned length (``planned_weeks``)."""
    return {
        **session_info(meta),
        "weeks": meta.end,
        "end_window": list(window(meta.base)),
        "planned_weeks": meta.settings.weeks,
    }


_CACHE_LIMIT = 5000


def _mkey(meta: SessionMeta, n: int, t: Team) -> tuple[Any, ...]:
    return (meta.code, meta.settings.seed, n, t.week, t.done, *_strategy_key(t))


def _strategy_key(t: Team) -> tuple[str, str, bool | None]:
    """What of a team changes the scenario it plays: its CODP, web shop mode and deal."""
    return t.codp or "", t.shop or "", t.deal


_STATE_LIMIT = 1000  # teams (a class is at most MAX_TEAMS)


def _deal(meta: SessionMeta, scn: Any, t: Team) -> dict[str, Any] | None:
    """The team's co-makership deal (``game.comaker``), None where no segment can co-make:
    ``on`` (in force), ``open`` (the team may offer or end it now: before the start or at a
    review week), ``by`` (who chose last) and the terms of each segment that can co-make."""
    terms = [
        {
            "segment": seg.name,
            "share": seg.share,
            "horizon": seg.comaker.horizon,
            "discount": seg.comaker.discount,
            "lead_time": seg.comaker.lead_time,
            "lead_times": dict(seg.comaker.lead_times),
        }
        for seg in scn.segments
        if seg.comaker is not None
    ]
    if not terms:
        return None
    running = meta.status in ("running", "paused") and not t.done
    open_now = meta.status == "setup" or (running and is_review_week(scn, t.week))
    return {"on": in_force(scn), "open": open_now, "by": t.deal_by, "terms": terms}


def _review_open(meta: SessionMeta, scn: Any, t: Team) -> bool:
    """True when the team may change its CODP and web shop mode now: a session where teams
    choose, running or paused at the decision point of one of the scenario's review weeks."""
    return (
        meta.settings.codp_rule == "team"
        and meta.status in ("running", "paused")
        and not t.done
        and is_review_week(scn, t.week)
    )


def _progress(n: int, week: int, done: bool, decided: Any, bots: list[str]) -> dict[str, Any]:
    """One team on the projector's strip: its week and which roles decided it (and bots play)."""
    return {
        "team": n,
        "week": week,
        "done": done,
        "decided": sorted(decided),
        "bots": bots,
    }


def progress(rows: list[dict[str, Any]]) -> Raw:
    """The projector's ``progress`` event from dashboard rows (the teams that changed), encoded."""
    return Raw.safe({"teams": [_progress(r["team"], r["week"], r["done"], r["decided"], r["bots"]) for r in rows]})


STANDINGS_TOP = 5


def standings(meta: SessionMeta, rows: list[dict[str, Any]]) -> Raw:
    """The players' ``standings`` event from a ``ranking``, encoded: every team's rank (a list in
    team order, a few bytes per team) and the top rows of the table."""
    ranks = [0] * meta.settings.teams
    for r in rows:
        ranks[r["team"] - 1] = r["rank"]
    return Raw.safe({"teams": meta.settings.teams, "ranks": ranks, "top": rows[:STANDINGS_TOP]})


class Views:
    """The payloads of one process, built from ``store`` with what a played week or a team
    state makes worth keeping (a week's money, the week records, a seat's encoded view and
    history lines, the positions a team may choose, the class's orders per week): one
    object on the hub owns every cache (``clear`` empties them)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._money_cache: dict[tuple[Any, ...], dict[str, float]] = {}
        self._weeks: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
        self._seats: dict[tuple[str, int, int, str], tuple[GameState, tuple[Any, ...], int, Raw, Raw]] = {}
        self._lines: dict[tuple[str, int, int, str], list[str]] = {}  # seat -> encoded lines of its played weeks
        self._positions_cache: dict[tuple[str, int, int], tuple[GameState, str, str, list[dict[str, Any]]]] = {}
        self._orders: dict[tuple[str, int], dict[str, Any]] = {}

    def clear(self) -> None:
        """Forget everything kept (each payload is then built from the store alone)."""
        for cache in (self._money_cache, self._weeks, self._seats, self._lines, self._positions_cache, self._orders):
            cache.clear()

    def history(
        self, meta: SessionMeta, n: int, new: list[dict[str, Any]] | None = None, start: int = 0
    ) -> list[dict[str, Any]]:
        """Team ``n``'s week records; the list only grows, so only new records are read
        (or taken from ``new``, the records from index ``start`` read by the caller)."""
        key = (meta.code, meta.settings.seed, n)
        known = self._weeks.get(key, [])
        if new is None:
            new, start = self.store.weeks(meta.code, n, start=len(known)), len(known)
        new = new[len(known) - start :] if start <= len(known) else self.store.weeks(meta.code, n, start=len(known))
        if new or key not in self._weeks:
            if len(self._weeks) > _CACHE_LIMIT:
                self._weeks.clear()
            known = known + new
            self._weeks[key] = known
        return known

    def _snapshot_with_weeks(
        self, meta: SessionMeta, n: int, snap: TeamSnapshot | None = None
    ) -> tuple[TeamSnapshot, list[dict[str, Any]]]:
        """Team ``n``'s snapshot and its week records, in one round trip; with ``snap`` (as a
        commit wrote it, ``weeks_count`` and ``last_record`` set), the records it counts, read
        only when not known here."""
        if snap is not None and snap.weeks_count is not None:
            count = snap.weeks_count
            if snap.last_record is not None:
                self._remember(meta, n, snap.last_record)
            known = self._weeks.get((meta.code, meta.settings.seed, n), [])
            return snap, (known if len(known) == count else self.history(meta, n))[:count]
        start = len(self._weeks.get((meta.code, meta.settings.seed, n), []))
        found = self.store.team_snapshot(meta.code, n, weeks_from=start)
        if found is None:
            raise GameError("unknown_session", f"no team {n} in session {meta.code}")
        return found, self.history(meta, n, found.weeks, start)

    def _remember(self, meta: SessionMeta, n: int, record: dict[str, Any]) -> None:
        """The record of the week team ``n`` just wrote joins the known ones (when they are
        all the weeks before it)."""
        key = (meta.code, meta.settings.seed, n)
        known = self._weeks.get(key)
        if known is not None and len(known) == record["week"] - 1:
            self._weeks[key] = [*known, record]

    def _money(self, meta: SessionMeta, n: int, t: Team, scn: Any, weeks: list[dict[str, Any]]) -> dict[str, float]:
        """Cost, profit and score so far (cached per team and week: a played week never changes)."""
        key = _mkey(meta, n, t)
        if key not in self._money_cache:
            state = t.state
            assert state is not None
            pv = public_view(scn, state, weeks)
            if len(self._money_cache) > 4 * _CACHE_LIMIT:
                self._money_cache.clear()
            self._money_cache[key] = {
                "cost": pv["cost"],
                "profit": pv["profit"],
                "score": team_score(scn, weeks_so_far(scn, state, weeks)),
            }
        return self._money_cache[key]

    def _cached_money(self, meta: SessionMeta, n: int, fields: Team) -> dict[str, float]:
        """Money of team ``n`` from its small hash fields (week, done, codp, shop), reading
        the state and records only when the cache misses."""
        key = _mkey(meta, n, fields)
        if key in self._money_cache:
            return self._money_cache[key]
        t = self.store.team(meta.code, n)
        if t is None:
            raise GameError("unknown_session", f"no team {n} in session {meta.code}")
        return self._money(meta, n, t, meta.team_scenario(t), self.history(meta, n))

    def _seat_view(
        self, meta: SessionMeta, n: int, role: str, t: Team, scn: Any, weeks: list[dict[str, Any]]
    ) -> tuple[Raw, Raw]:
        """The role's ``view`` (without its history) and its own history, encoded.

        Computed and encoded once per team state and week count: within a week only
        the decisions change, so teammates' submissions reuse both."""
        key = (meta.code, meta.settings.seed, n, role)
        state = t.state
        assert state is not None
        codp = (*_strategy_key(t), meta.end_known)
        hit = self._seats.get(key)
        if hit is not None and hit[0] is state and hit[1] == codp and hit[2] == len(weeks):
            return hit[3], hit[4]
        # its history: the current week's line only
        v = view(scn, state, role, meta.settings.visibility, [], meta.end_known)
        own = self._own_history(key, role, state, weeks, v.pop("history"))  # sent once, at the top level
        v = Raw.safe(v)
        if len(self._seats) > 4 * _STATE_LIMIT:
            self._seats.clear()
        self._seats[key] = (state, codp, len(weeks), v, own)
        return v, own

    def _own_history(
        self,
        key: tuple[Any, ...],
        role: str,
        state: GameState,
        weeks: list[dict[str, Any]],
        current: list[dict[str, Any]],
    ) -> Raw:
        """The seat's ``history`` as ``game.visibility.view`` has it, encoded: the line of each
        played week is encoded once (a played week never changes), then ``current``, the line
        of the week being decided, unless the records hold that week (the last one of a game)."""
        played = [w for w in weeks if w["week"] <= state.week]
        lines = self._lines.get(key, [])
        if len(lines) < len(played):
            if len(self._lines) > 4 * _STATE_LIMIT:
                self._lines.clear()
            lines = self._lines[key] = lines + [Raw.safe(history_entry(w, role)).text for w in played[len(lines) :]]
        texts = lines[: len(played)]
        if not played or played[-1]["week"] != state.week:
            texts = texts + [Raw.safe(line).text for line in current]
        return Raw.of_text("[" + ",".join(texts) + "]")

    def player_states(
        self, meta: SessionMeta, n: int, roles: set[str] | None = None, snap: TeamSnapshot | None = None
    ) -> dict[str, Raw]:
        """The ``state`` payload (encoded) of every taken seat of team ``n`` (the team is read once,
        or not at all with ``snap``, the team as a commit wrote it); ``roles``: of these seats only (the
        ones with a connection on this process)."""
        snap, weeks = self._snapshot_with_weeks(meta, n, snap)
        wanted = [r for r in snap.seats if roles is None or r in roles]
        return {role: self._player_state(meta, n, role, snap, weeks) for role in wanted}

    def team_decided(self, code: str, n: int) -> dict[str, Any]:
        """The ``decided`` event: which seats of team ``n`` decided its current week."""
        snap = self.store.teams(code, [n], ("week",), ("decided",))[0]
        return {"team": n, "week": snap.team.week, "decided": sorted(snap.decided)}

    def player_state(self, meta: SessionMeta, n: int, role: str) -> Raw:
        """The ``state`` event (encoded) for the player in seat (``n``, ``role``)."""
        snap, weeks = self._snapshot_with_weeks(meta, n)
        return self._player_state(meta, n, role, snap, weeks)

    def _player_state(
        self, meta: SessionMeta, n: int, role: str, snap: TeamSnapshot, weeks: list[dict[str, Any]]
    ) -> Raw:
        """The seat's ``state`` payload, encoded (its view and history spliced in as they were encoded)."""
        t = snap.team
        scn = meta.team_scenario(t)
        v, own = self._seat_view(meta, n, role, t, scn, weeks)
        money = self._money(meta, n, t, scn, weeks)
        return wire.payload(
            {
                "session": session_info(meta, t),
                "seat": {
                    "team": n,
                    "team_name": t.name or f"Team {n}",
                    "role": role,
                    "label": seat_label(scn, role),
                    "name": snap.seats[role].name if role in snap.seats else None,
                    "bot": role not in snap.humans,
                },
                "view": v,
                "history": own,
                "decided": role in snap.dec,
                "decision": snap.dec.get(role),
                "team": {
                    "week": t.week,
                    "done": t.done,
                    "decided": sorted(snap.dec),
                    "bots": [r for r in sales_seats(scn) if r not in snap.humans],
                    "cost": money["cost"],
                    "profit": money["profit"],
                    "shop": shop_mode(scn),
                    "review": _review_open(meta, scn, t),
                    "codp_by": t.codp_by,
                    "choice": t.codp,
                    "positions": self._positions(meta, n, t, scn),
                    "deal": _deal(meta, scn, t),
                },
            }
        )

    def _positions(self, meta: SessionMeta, n: int, t: Team, scn: Any) -> list[dict[str, Any]] | None:
        """What each position the team may choose now would mean (``game.review.describe_position``),
        while it may choose (before the start or at a review, ``codp.rule`` team), else None.
        Computed once per team state."""
        before = meta.status == "setup"
        if meta.settings.codp_rule != "team" or not (before or _review_open(meta, scn, t)):
            return None
        if before:  # as a game would begin at each position: the same for every team of that scenario
            return scenario_positions(scn)
        key, state = (meta.code, meta.settings.seed, n), t.state
        assert state is not None
        hit = self._positions_cache.get(key)
        if hit is not None and hit[0] is state and hit[1:3] == (t.codp or "", t.shop or ""):
            return hit[3]
        allowed = list(meta.base.codp_positions) or positions_for(meta.base)
        out = [jsonsafe(describe_position(scn, state, p)) for p in allowed]
        out += [describe_processes(meta.base, option) for option in process_options(meta.base)]
        if len(self._positions_cache) > _STATE_LIMIT:
            self._positions_cache.clear()
        self._positions_cache[key] = (state, t.codp or "", t.shop or "", out)
        return out

    def _snapshots(self, meta: SessionMeta, teams: list[int] | None = None) -> list[TeamSnapshot]:
        """The small fields, decisions, seats, humans and forced roles of ``teams`` (default:
        every team, in order) in one round trip."""
        teams = list(meta.team_numbers) if teams is None else teams
        fields = ("week", "done", "codp", "shop", "deal", "name", "deadline", "remaining")
        return self.store.teams(meta.code, teams, fields, ("dec", "seats", "humans", "forced"))

    def team_summary(
        self,
        meta: SessionMeta,
        n: int,
        snap: TeamSnapshot,
        online_since: float | None = None,
        seen: dict[tuple[int, str], float] | None = None,
        full: bool = False,
        closed: set[tuple[int, str]] | None = None,
    ) -> dict[str, Any]:
        """One team on the facilitator's dashboard (``full``: with the facilitator view).
        A seat is ``connected`` when a connection held it at or after ``online_since``
        and its last connection did not close since (``closed``)."""
        t = snap.team
        scn = meta.team_scenario(t)
        seen = seen or {}
        closed = closed or set()
        seats = []
        for role in sales_seats(scn):
            seat = snap.seats.get(role)
            last = seen.get((n, role))
            seats.append(
                {
                    "role": role,
                    "label": seat_label(scn, role),
                    "taken": seat is not None,
                    "name": seat.name if seat else None,
                    "bot": role not in snap.humans,
                    "forced": role in snap.forced,
                    "decided": role in snap.dec,
                    "last_seen": last,
                    "connected": seat is not None
                    and online_since is not None
                    and (last or 0.0) >= online_since
                    and (n, role) not in closed,
                }
            )
        money = self._cached_money(meta, n, t)
        out = {
            "team": n,
            "name": t.name or f"Team {n}",
            "codp": t.codp,
            "shop": shop_mode(scn),
            "week": t.week,
            "done": t.done,
            "deadline": t.deadline,
            "remaining": t.remaining,
            "decided": sorted(snap.dec),
            "bots": [s["role"] for s in seats if s["bot"]],
            "seats": seats,
            "cost": money["cost"],
            "profit": money["profit"],
        }
        if full:
            whole = self.store.team(meta.code, n)
            assert whole is not None and whole.state is not None
            state = whole.state
            out["view"] = facilitator_view(scn, state, self.history(meta, n), meta.end_known)
        return out

    def team_detail(self, meta: SessionMeta, n: int, online_since: float | None = None) -> dict[str, Any]:
        """Everything about one team for the facilitator: the dashboard row plus
        ``game.visibility.facilitator_view`` (every stage, the history, the score)."""
        snap = self._snapshots(meta, [n])[0]
        seen, closed = self.store.presence(meta.code)
        return jsonsafe(self.team_summary(meta, n, snap, online_since, seen, full=True, closed=closed))

    def dashboard(self, meta: SessionMeta, full: bool = False, online_since: float | None = None) -> dict[str, Any]:
        """The facilitator's ``dashboard`` event: every team."""
        seen, closed = self.store.presence(meta.code)
        snaps = self._snapshots(meta)
        return jsonsafe(
            {
                "session": facilitator_session(meta),
                "roles": list(meta.base.roles),
                "teams": [
                    self.team_summary(meta, n, snap, online_since, seen, full, closed)
                    for n, snap in enumerate(snaps, 1)
                ],
            }
        )

    def dashboard_update(self, meta: SessionMeta, rows: list[dict[str, Any]]) -> Raw:
        """The facilitator's ``dashboard_update`` event, encoded: the session and ``rows`` (of the
        teams that changed, from ``dashboard_rows``)."""
        return Raw.safe({"session": facilitator_session(meta), "teams": rows})

    def dashboard_rows(
        self,
        meta: SessionMeta,
        teams: list[int],
        online_since: float,
        seen: dict[tuple[int, str], float],
        closed: set[tuple[int, str]],
    ) -> list[dict[str, Any]]:
        """The dashboard rows of ``teams``, shaped as in ``dashboard``."""
        return [
            self.team_summary(meta, n, snap, online_since, seen, closed=closed)
            for n, snap in zip(teams, self._snapshots(meta, teams), strict=True)
        ]

    def ranking(self, meta: SessionMeta) -> list[dict[str, Any]]:
        """Teams ranked by score (``game.scoring.team_score``: profit, or minus cost without prices)."""
        rows = {}
        fields = ("week", "done", "codp", "shop", "deal", "name")
        for n, snap in enumerate(self.store.teams(meta.code, meta.team_numbers, fields), 1):
            t = snap.team
            money = self._cached_money(meta, n, t)
            rows[n] = {"name": t.name or f"Team {n}", "week": t.week, "done": t.done, **money}
        return [{**rows[r["team"]], **r} for r in rank_teams((n, rows[n]["score"]) for n in rows)]

    def leaderboard(self, meta: SessionMeta, rows: list[dict[str, Any]] | None = None) -> Raw:
        """The public ``leaderboard`` event (the projector), encoded: the whole ``ranking`` (or
        ``rows``), who has decided in each team (``progress``), the chain's structure and the
        class's orders per stage week by week (``orders``, see ``class_orders``)."""
        snaps = self.store.teams(meta.code, meta.team_numbers, ("week", "done"), ("decided", "humans"))
        progress = [
            _progress(n, snap.team.week, snap.team.done, snap.decided, [r for r in meta.seats if r not in snap.humans])
            for n, snap in enumerate(snaps, 1)
        ]
        played = [int(p["week"]) if p["done"] else int(p["week"]) - 1 for p in progress]
        return Raw.safe(
            {
                "session": session_info(meta),
                "ranking": self.ranking(meta) if rows is None else rows,
                "progress": progress,
                "chain": public_chain(meta.base, meta.settings.codp_rule != "team"),
                "orders": self.class_orders(meta, min(played, default=0)),
            }
        )

    def class_orders(self, meta: SessionMeta, horizon: int) -> dict[str, Any]:
        """The class's orders per stage for weeks 1 .. ``horizon`` (the weeks every team has played):
        ``{"roles", "played", "spread": {role: [[p10, median, p90] per week]}}``. A week's figures never
        change once every team played it, so each is worked out once (on the process that leads)."""
        roles = list(meta.base.roles)
        key = (meta.code, meta.settings.seed)
        known = self._orders.get(key)
        if known is None or known["roles"] != roles:
            known = {"roles": roles, "played": [], "spread": {r: [] for r in roles}}
        if horizon > len(known["played"]):
            records = [self._records(meta, n, horizon) for n in meta.team_numbers]
            horizon = min(horizon, *(len(r) for r in records))  # a record not yet readable waits
            for week in range(len(known["played"]) + 1, horizon + 1):
                spread = order_spread(roles, records, week)
                known["played"].append(week)
                for r in roles:
                    known["spread"][r].append(spread[r])
            if len(self._orders) > _CACHE_LIMIT:
                self._orders.clear()
            self._orders[key] = known
        return known

    def _records(self, meta: SessionMeta, n: int, weeks: int) -> list[dict[str, Any]]:
        """Team ``n``'s week records, at least ``weeks`` of them (from the cache when it holds them)."""
        known = self._weeks.get((meta.code, meta.settings.seed, n), [])
        return known if len(known) >= weeks else self.history(meta, n)

    def public_session(self, meta: SessionMeta) -> dict[str, Any]:
        """``GET /api/sessions/<code>``: status and which seats are taken (no names, no state)."""
        roles = meta.seats
        # every team in one round trip: each player page asks once
        snaps = self.store.teams(meta.code, meta.team_numbers, ("week", "name"), ("taken", "humans"))
        teams = []
        week = None
        for n, snap in enumerate(snaps, 1):
            w, taken, humans = snap.team.week, snap.taken, snap.humans
            week = w if week is None else min(week, w)
            teams.append(
                {
                    "team": n,
                    "name": snap.team.name or f"Team {n}",
                    "week": w,
                    "seats": [
                        {"role": r, "label": seat_label(meta.base, r), "taken": r in taken, "bot": r not in humans}
                        for r in roles
                    ],
                }
            )
        info = session_info(meta)
        return jsonsafe({**info, "week": week, "roles": list(roles), "teams": teams})
