"""Sessions, teams and seats: create a session, join a seat, resume it with the token."""

from __future__ import annotations

import hmac
import secrets
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from game.codp import positions_for
from game.engine import all_bounds
from game.horizon import end_of_game, window, with_length
from game.policies import PolicyError, check_roles, parse_policy
from game.sales import seats as sales_seats
from game.scenario import MAX_WEEKS, VISIBILITY_KEYS, Scenario, ScenarioError
from game.start import new_game
from game.state import GameState
from web import payloads
from web.errors import GameError, bad
from web.payloads import is_whole
from web.play import own_scenario
from web.play.scenarios import base_scenario, presets, team_scenario
from web.store import Store, digest
from web.store.records import Player, SessionRecord, SessionSettings, Team

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 6
NAME_MAX = 30
MIN_ROUND_SECONDS = 5
MAX_ROUND_SECONDS = 3600
MAX_SEED = 2**31 - 1


@dataclass(frozen=True, slots=True)
class SessionMeta:
    """A session as the rounds read it: its code, its settings (fixed at creation) and its
    status, round timer (0: none), facilitator secret's hash and whether the facilitator
    revealed the last week during the game."""

    code: str
    settings: SessionSettings
    status: str
    round_seconds: int
    secret_hash: str
    end_revealed: bool = False

    @property
    def base(self) -> Scenario:
        """The session's scenario with its weeks (no team CODP applied)."""
        return settings_scenario(self.settings)

    def scenario_for(self, codp: str | None, shop: str | None = None, deal: bool | None = None) -> Scenario:
        """The scenario a team with CODP position ``codp`` (web shop mode ``shop``, co-makership
        ``deal``: None as the scenario has it) plays."""
        return settings_scenario(self.settings, codp, shop, deal)

    @property
    def team_numbers(self) -> range:
        """The session's teams, numbered from 1."""
        return range(1, self.settings.teams + 1)

    def team_arg(self, team: int | None) -> int | None:
        """``team`` (None stays None) when the session has it; ``bad_request`` when not."""
        if team is not None and team not in self.team_numbers:
            raise bad(f"team must be a number from 1 to {self.settings.teams}")
        return team

    @property
    def seats(self) -> tuple[str, ...]:
        """The seats players may take: the base scenario's roles and its sales seat, if any."""
        return sales_seats(self.base)

    @property
    def end(self) -> int:
        """The last week of every team's game (drawn from the session's seed)."""
        return end_of_game(self.base, self.settings.seed)

    @property
    def end_known(self) -> bool:
        """True when the players may see the last week: set so at creation (default: as the
        scenario says) or revealed by the facilitator since."""
        told = self.base.end_known if self.settings.end_told is None else self.settings.end_told
        return told or self.end_revealed

    def team_scenario(self, team: Team) -> Scenario:
        """The scenario ``team`` (with its ``codp``, ``shop`` and ``deal``) plays."""
        return self.scenario_for(team.codp, team.shop, team.deal)


def settings_scenario(
    settings: SessionSettings, codp: str | None = None, shop: str | None = None, deal: bool | None = None
) -> Scenario:
    """The scenario a team of a session with ``settings`` plays at CODP position ``codp`` (None:
    the session's), web shop mode ``shop`` and co-makership ``deal`` (None: as the scenario has it)."""
    s = settings
    return team_scenario(s.scenario, s.weeks, codp or s.codp, s.custom, shop or None, s.end_window, deal)


def load_meta(store: Store, code: Any) -> SessionMeta:
    """The session ``code``; ``unknown_session`` when there is none."""
    if not isinstance(code, str) or not 1 <= len(code) <= 16:
        raise GameError("unknown_session", "no session with that code")
    code = code.strip().upper()
    return meta_from(code, store.session(code))


def meta_from(code: str, raw: SessionRecord | None) -> SessionMeta:
    """The session ``code`` from its record ``raw``; ``unknown_session`` when there is none."""
    if raw is None:
        raise GameError("unknown_session", f"no session with code {code}")
    return SessionMeta(code, raw.settings, raw.status, raw.round_seconds, raw.secret, raw.end_revealed)


def check_facilitator(meta: SessionMeta, secret: Any) -> None:
    """``forbidden`` unless ``secret`` is the session's facilitator secret."""
    if not isinstance(secret, str) or not 1 <= len(secret) <= 200:
        raise GameError("forbidden", "wrong facilitator secret")
    if not hmac.compare_digest(digest(secret), meta.secret_hash):
        raise GameError("forbidden", "wrong facilitator secret")


# -- validation helpers -------------------------------------------------------------


def _int(body: dict[str, Any], key: str, default: Any, lo: int, hi: int) -> Any:
    """``body[key]`` (already a whole number, see ``web.payloads``) within ``lo..hi``, else ``default``."""
    value = body.get(key)
    if value is None:
        return default
    if not lo <= value <= hi:
        raise bad(f"{key} must be between {lo} and {hi}")
    return value


def round_seconds(value: Any) -> int:
    """0 (no timer) or a whole number of seconds within the limits."""
    if value is None or (is_whole(value) and value == 0):
        return 0
    if not is_whole(value):
        raise bad("round_seconds must be a whole number or null")
    if not MIN_ROUND_SECONDS <= value <= MAX_ROUND_SECONDS:
        raise bad(f"round_seconds must be between {MIN_ROUND_SECONDS} and {MAX_ROUND_SECONDS}, or null")
    return value


def clean_name(value: Any) -> str:
    """A display name: text, 1..30 characters after trimming, no control characters."""
    if not isinstance(value, str):
        raise GameError("invalid_name", "the name must be text")
    name = unicodedata.normalize("NFC", value).strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise GameError("invalid_name", f"the name must have 1 to {NAME_MAX} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in name):
        raise GameError("invalid_name", "the name contains control characters")
    return name


def new_code() -> str:
    """A short join code of unambiguous letters and digits."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _settings(body: Any, max_teams: int) -> tuple[SessionSettings, int]:
    """Validate the body of ``POST /api/sessions``; the session's settings and round timer."""
    body = payloads.check(body, payloads.SESSION, "the session")
    custom = None
    if body.get("custom_scenario") is not None:  # the session's own scenario (web.play.own_scenario)
        if "scenario" in body:
            raise bad("give scenario (a preset) or custom_scenario, not both")
        scn, custom = own_scenario.parse(body["custom_scenario"])
        name = scn.name
    else:
        name = body.get("scenario", "classic")
        if name not in presets():
            raise bad(f"scenario must be one of {', '.join(presets())}")
        try:
            scn = base_scenario(name)
        except ScenarioError as exc:  # pragma: no cover - presets are validated by the engine tests
            raise bad(str(exc)) from None
    teams = _int(body, "teams", 1, 1, max_teams)
    weeks = _int(body, "weeks", scn.weeks, 1, MAX_WEEKS)
    end_window = _end_window(body.get("end_window"), scn, weeks)
    end_known = body.get("end_known", scn.end_known)
    seed = _int(body, "seed", None, 0, MAX_SEED)
    seed = secrets.randbelow(MAX_SEED) if seed is None else seed
    codp_raw = payloads.check(body.get("codp", {}), payloads.CODP, "codp")
    rule = codp_raw.get("rule", "fixed")
    if rule not in ("fixed", "team"):
        raise bad("codp.rule must be 'fixed' or 'team'")
    position = codp_raw.get("position", scn.codp)
    if position is not None and position not in positions_for(scn):
        raise bad(f"codp.position must be one of {', '.join(positions_for(scn))}")
    vis_raw = payloads.check(body.get("visibility", {}), {k: ("bool", False) for k in VISIBILITY_KEYS}, "visibility")
    visibility = {**scn.visibility, **vis_raw}
    policy = body.get("bot_policy", "sterman")
    if len(policy) > 200:
        raise bad("bot_policy must be a policy spec such as 'sterman'")
    try:
        policy = check_roles(parse_policy(policy), scn.roles).spec
    except PolicyError as exc:
        raise bad(str(exc)) from None
    settings = SessionSettings(
        scenario=name,
        teams=teams,
        weeks=weeks,
        seed=seed,
        codp_rule=rule,
        codp=position,
        visibility=visibility,
        bot_policy=policy,
        end_window=end_window,
        end_told=end_known,
        custom=custom or None,
    )
    return settings, round_seconds(body.get("round_seconds"))


def _end_window(raw: Any, scn: Scenario, weeks: int) -> tuple[int, int]:
    """The session's ``end_window``: first and last with first <= ``weeks`` <= last, or by
    default the scenario's own window moved along with ``weeks``."""
    if raw is None:
        return window(with_length(scn, weeks))
    if not (isinstance(raw, list) and len(raw) == 2 and all(is_whole(v) for v in raw)):
        raise bad("end_window must be [first, last], two whole numbers of weeks")
    if not 1 <= raw[0] <= weeks <= raw[1] <= MAX_WEEKS:
        raise bad(f"end_window must hold 1 <= first <= weeks ({weeks}) <= last <= {MAX_WEEKS}")
    return raw[0], raw[1]


def at_state(team: Team, scn: Scenario, state: GameState) -> Team:
    """``team`` with its game at ``state`` on ``scn``: its week, whether it is over, and the
    decision bounds the store writes with every state (none once the game is over)."""
    bounds = {} if state.done else all_bounds(scn, state)
    return replace(team, week=state.week, done=state.done, state=state, bounds=bounds)


def new_team(scn: Scenario, seed: int, n: int, codp: str | None, shop: str | None = None) -> Team:
    """Team ``n`` as it begins: its game at week 1 on ``scn`` (the scenario at its CODP position
    ``codp`` and web shop mode ``shop``)."""
    return at_state(Team(codp=codp or None, shop=shop or None, name=f"Team {n}"), scn, new_game(scn, seed))


def create_session(store: Store, cfg: dict[str, Any], body: Any, now: float) -> dict[str, Any]:
    """Create a session from the API body; returns the answer of ``POST /api/sessions``."""
    settings, timer = _settings(body, int(cfg["MAX_TEAMS"]))
    secret = secrets.token_urlsafe(24)
    record = SessionRecord(settings, secret=digest(secret), round_seconds=timer)
    scn = settings_scenario(settings)
    teams = [new_team(scn, settings.seed, n, settings.codp) for n in range(1, settings.teams + 1)]
    for _ in range(20):
        code = new_code()
        if store.create_session(code, record, now, teams, int(cfg["IDLE_TTL_SECONDS"])):
            break
    else:  # pragma: no cover - 31^6 codes
        raise GameError("rate_limited", "could not find a free join code, try again")
    return {
        "session_id": code,
        "code": code,
        "facilitator_secret": secret,
        "join_url": f"/play/{code}",
        "scenario": settings.scenario,
        "teams": settings.teams,
        "weeks": settings.weeks,
        "seed": settings.seed,
    }


# -- seats ----------------------------------------------------------------------


def _fill_order(meta: SessionMeta) -> list[str]:
    """The seats in the order players fill them: the consumer end first, the sales seat last."""
    stages = list(meta.base.roles)
    return [*reversed(stages), *meta.seats[len(stages) :]]


def _free_seat(store: Store, meta: SessionMeta, team: int | None, role: str | None) -> list[tuple[int, str]]:
    """Candidate seats for a join request, in fill order."""
    teams = [team] if team is not None else list(meta.team_numbers)
    out = []
    for n in teams:
        taken = set(store.seats(meta.code, n)) | store.forced(meta.code, n)
        for r in _fill_order(meta) if role is None else [role]:
            if r not in taken:
                out.append((n, r))
    return out


def _shared_seat(store: Store, meta: SessionMeta, team: int | None, role: str | None) -> list[tuple[int, str]]:
    """Taken seats a late player may share, fewest players first (then team 1 first, consumer end first);
    a seat the facilitator gave to a bot is not offered."""
    roles = _fill_order(meta) if role is None else [role]
    teams = [team] if team is not None else list(meta.team_numbers)
    found = []
    for n, snap in zip(teams, store.teams(meta.code, teams, ("week",), ("seats", "forced")), strict=True):
        for i, r in enumerate(roles):
            seat = snap.seats.get(r)
            if seat is not None and r not in snap.forced and not seat.full:
                found.append((len(seat.players), n, i, r))
    return [(n, r) for _, n, _, r in sorted(found)]


def join(store: Store, cfg: dict[str, Any], body: dict[str, Any], now: float) -> dict[str, Any]:
    """Give a player a seat: ``{"token", "code", "team", "role", "shared"}``. A free seat first;
    with ``share``, when none is free (or the chosen one is taken), a taken seat the player
    then plays together with its player (``shared``: True)."""
    meta = load_meta(store, body["code"])
    name = clean_name(body["name"])
    if meta.status == "over":
        raise GameError("not_running", "this game is over")
    team = meta.team_arg(body.get("team"))
    role = body.get("role")
    if role is not None and role not in meta.seats:
        raise bad(f"role must be one of {', '.join(meta.seats)}")
    token = secrets.token_urlsafe(24)
    player = Player(name, digest(token), round(now, 3))
    ttl = int(cfg["IDLE_TTL_SECONDS"])
    placed = {"token": token, "code": meta.code}
    for n, r in _free_seat(store, meta, team, role):
        if store.claim_seat(meta.code, n, r, player, ttl):
            store.mark_seen(meta.code, [(n, r)], now)
            store.set_human(meta.code, n, r, True, ttl)
            return {**placed, "team": n, "role": r, "shared": False}
    if body.get("share"):
        for n, r in _shared_seat(store, meta, team, role):
            if store.share_seat(meta.code, n, r, player, ttl):
                store.mark_seen(meta.code, [(n, r)], now)
                return {**placed, "team": n, "role": r, "shared": True}
    if role is not None:
        raise GameError("seat_taken", f"the {role} seat is taken")
    raise GameError("team_full", "no free seat" + (f" in team {team}" if team else " in this session"))


def resume(store: Store, cfg: dict[str, Any], body: dict[str, Any], now: float) -> dict[str, Any]:
    """Reclaim the seat a token belongs to: ``{"code", "team", "role", "reclaimed"}``."""
    token = body["token"]
    if not 8 <= len(token) <= 200:
        raise GameError("bad_token", "unknown seat token")
    h = digest(token)
    where = store.token(h)
    if not where:
        raise GameError("bad_token", "unknown seat token")
    meta = load_meta(store, where.code)
    team, role = where.team, where.role
    seat = store.seats(meta.code, team).get(role)
    if seat is None or not seat.holds(h):
        raise GameError("bad_token", "this token no longer holds a seat")
    store.mark_seen(meta.code, [(team, role)], now)
    reclaimed = False
    if role not in store.forced(meta.code, team):
        reclaimed = store.set_human(meta.code, team, role, True, int(cfg["IDLE_TTL_SECONDS"]))
    return {"code": meta.code, "team": team, "role": role, "reclaimed": reclaimed}
