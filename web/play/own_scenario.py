"""A facilitator's own scenario: a preset with keys changed in the dashboard, or an uploaded
TOML file. It is validated by ``game.scenario`` (the same messages as on the command line) and
kept as TOML text in the session's config (``web.http.custom_scenarios`` serves it over HTTP)."""

from __future__ import annotations

import copy
import re
import tomllib
from functools import lru_cache
from typing import Any

import tomli_w

from game.scenario import SCENARIO_DIR, Scenario, ScenarioError, scenario_from_toml
from web.errors import GameError, bad
from web.play.scenarios import presets

MAX_SCENARIO_CHARS = 32_000
MAX_STAGES = 12
MAX_SEGMENTS = 12
MAX_NAME = 60
EDITED = "edited scenario"  # the ``source`` of an edited preset in error messages
SHAPE = 'custom_scenario must be {"toml": "<the file\'s text>", "file": "name.toml"} or {"document": {...}}'


@lru_cache(maxsize=32)
def _preset_text(name: str) -> str:
    return (SCENARIO_DIR / f"{name}.toml").read_text(encoding="utf-8")


def preset_document(name: str) -> dict[str, Any]:
    """The keys of preset ``name`` as its file has them (a fresh copy to edit)."""
    if name not in presets():
        raise bad(f"scenario must be one of {', '.join(presets())}")
    return copy.deepcopy(tomllib.loads(_preset_text(name)))


def _file_name(value: Any) -> str:
    """The uploaded file's name for messages: its last path part, plain characters only."""
    if not isinstance(value, str) or not value.strip():
        return "uploaded.toml"
    name = re.sub(r"[^\w.\- ]", "_", value.replace("\\", "/").rsplit("/", 1)[-1]).strip()[:80]
    return name or "uploaded.toml"


def _check_values(value: Any, where: str) -> None:
    """Only what TOML can hold: a JSON ``null`` (an emptied field) is named with its key."""
    if value is None:
        raise GameError("invalid_scenario", f"{EDITED}: {where}: must have a value")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_values(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_values(v, f"{where}[{i}]")


def _dump(document: Any) -> str:
    """The TOML text of an edited document."""
    if not isinstance(document, dict):
        raise bad(SHAPE)
    _check_values(document, "")
    try:
        return tomli_w.dumps(document)
    except (TypeError, ValueError) as exc:
        raise GameError("invalid_scenario", f"{EDITED}: {exc}") from None


def parse(raw: Any) -> tuple[Scenario, str]:
    """The scenario in ``custom_scenario`` (an uploaded file's text or an edited document) and
    the TOML text to keep; ``invalid_scenario`` with the engine's message naming the key."""
    if not isinstance(raw, dict) or set(raw) - {"toml", "file", "document"} or ("toml" in raw) == ("document" in raw):
        raise bad(SHAPE)
    if "toml" in raw:
        if not isinstance(raw["toml"], str):
            raise bad(SHAPE)
        text, source = raw["toml"], _file_name(raw.get("file"))
    else:
        text, source = _dump(raw["document"]), EDITED
    if len(text) > MAX_SCENARIO_CHARS:
        raise GameError("invalid_scenario", f"{source}: too long: {len(text)} characters, at most {MAX_SCENARIO_CHARS}")
    try:
        scn = scenario_from_toml(text, source)
    except ScenarioError as exc:
        raise GameError("invalid_scenario", str(exc)) from None
    for key, count, most in (("stages", len(scn.stages), MAX_STAGES), ("segments", len(scn.segments), MAX_SEGMENTS)):
        if count > most:
            raise GameError("invalid_scenario", f"{source}: {key}: at most {most} on this server, got {count}")
    if len(scn.name) > MAX_NAME or not scn.name.strip():
        raise GameError("invalid_scenario", f"{source}: name: must have 1 to {MAX_NAME} characters")
    return scn, text


def session_toml(scenario: str, custom: str | None) -> str:
    """The TOML text a session plays: its own, or its preset's file."""
    return custom if custom else _preset_text(scenario)
