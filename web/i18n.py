"""Languages: Flask-Babel set-up, the per-request locale and the strings the browser scripts use.

Catalogues live in ``web/translations/<lang>/LC_MESSAGES/messages.po`` (compiled ``.mo`` next to
them). After changing user-facing strings::

    pybabel extract -F babel.cfg -k _l --no-location --sort-output --width 120 -o web/translations/messages.pot .
    pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching --width 120
    # translate the new entries in web/translations/nl/LC_MESSAGES/messages.po, then
    pybabel compile -d web/translations
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, request
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l

from game.sales import SALES_SEAT

if TYPE_CHECKING:
    from game.scenario import Scenario

LANGUAGES: dict[str, str] = {"en": "English", "nl": "Nederlands"}
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    """The language cookie when it names a known language, else the browser's best match."""
    chosen = request.cookies.get(COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


def current_language() -> str:
    """The language code of this request (``en`` or ``nl``)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def scenario_texts(scenario: Scenario) -> dict[str, Any]:
    """A scenario's title, description, debrief, stage labels and the display names of its
    segments, regions and variants in the request's language (English, or the name as written,
    where the scenario has no translation)."""
    lang = current_language()
    return {
        "title": scenario.text("title", lang),
        "description": scenario.text("description", lang),
        "debrief": scenario.text("debrief", lang),
        "labels": {**scenario.labels(lang), **({SALES_SEAT: str(_l("Sales"))} if scenario.sales else {})},
        "names": scenario.names(lang),
    }


def init_i18n(app: Flask) -> None:
    """Attach Flask-Babel to ``app`` unless the app factory already did."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    if "babel" not in app.extensions:
        Babel(app, locale_selector=select_locale)

    @app.context_processor
    def _languages() -> dict[str, object]:
        return {"languages": LANGUAGES, "lang": current_language()}


# Strings the browser scripts show, passed to each page as a JSON catalogue.
JS_STRINGS = {
    "connecting": _l("Connecting…"),
    "connected": _l("Connected"),
    "reconnecting": _l("Connection lost, reconnecting…"),
    "order": _l("Your order this week"),
    "capacity": _l("Your capacity this week"),
    "order_help": _l("Cases to order from your supplier, between %(lo)s and %(hi)s."),
    "order_help_source": _l("Cases to put into production, between %(lo)s and %(hi)s."),
    "capacity_help": _l("Cases you can make per week (you work to order), between %(lo)s and %(hi)s."),
    "capacity_help_pass": _l(
        "Cases you can handle and pass on per week (you work to order: each customer order goes to your"
        " supplier at once), between %(lo)s and %(hi)s."
    ),
    "promise": _l("The lead time you promise customers, in weeks"),
    "promise_help": _l("%(lo)s to %(hi)s weeks, delivery included. The chain's quote now: %(quote)s."),
    "s_title": _l("Your customers"),
    "s_promise": _l("Promise in force"),
    "s_quote": _l("Quote now"),
    "s_waiting": _l("Customers waiting"),
    "s_late": _l("Past the promise"),
    "s_capacity": _l("Capacity a week"),
    "s_demand": _l("Demand last week"),
    "s_accepted": _l("Accepted"),
    "s_lost": _l("Walked away"),
    "s_reneged": _l("Cancelled"),
    "s_broken": _l("Broken promises"),
    "s_history": _l("Lead time promised and delivered"),
    "s_units": _l("Units"),
    "s_weeks_late": _l("Weeks late"),
    "promised": _l("Promised"),
    "delivered": _l("Delivered"),
    "intro_sales": _l("A short promise wins customers, but each unit-week late costs money and customers cancel."),
    "submit": _l("Submit"),
    "change": _l("Change"),
    "submit_anyway": _l("Submit anyway"),
    "submitted_change": _l("Submitted: %(value)s. Waiting for the others; you can change it until the week closes."),
    "unusual": _l("%(value)s is far from the usual (about %(usual)s). Check it; press Submit anyway to send it."),
    "col_decided": _l("You decided"),
    "col_capacity": _l("Your capacity"),
    "bot_decided": _l("Time ran out in week %(week)s: a bot decided %(value)s for you."),
    "after_first_week": _l("shown after the first week"),
    "others_playing": _l("other teams are still playing"),
    "detail_en": _l("details in English"),
    "codp_by": _l("(chosen by %(name)s)"),
    "codp_moved": _l("Your team moved its decoupling point: %(position)s."),
    "review_open": _l("Strategy review: your team may move its decoupling point now (see below)."),
    "codp_current": _l("Your team's choice now: %(position)s"),
    "codp_to_order": _l("Work to order: %(stages)s"),
    "codp_none_to_order": _l("No stage works to order"),
    "codp_stock_at": _l("Stock held at: %(stages)s"),
    "codp_no_stock": _l("No stock held anywhere"),
    "codp_lead_stock": _l(
        "Customers get goods from the shop's stock at once; when it runs out they would be quoted %(weeks)s weeks now"
    ),
    "codp_lead": _l("Quoted to customers now, with the stock already in the chain: %(weeks)s weeks"),
    "codp_lead_one": _l("Quoted to customers now, with the stock already in the chain: 1 week"),
    "codp_through": _l("An order takes %(weeks)s weeks through the stages that work to order"),
    "codp_through_one": _l("An order takes 1 week through the stages that work to order"),
    "codp_lead_stock_one": _l(
        "Customers get goods from the shop's stock at once; when it runs out they would be quoted 1 week now"
    ),
    "codp_lead_none": _l("No lead time could be promised to customers now"),
    "codp_segments": _l("Customers:"),
    "codp_segment": _l("%(name)s, %(share)s of demand: %(accept)s would buy"),
    "codp_premium_yes": _l("pays its premium"),
    "codp_premium_no": _l("no premium"),
    "waiting_start": _l("Waiting for the facilitator to start the game."),
    "paused": _l("The game is paused."),
    "bot_plays": _l("A bot is playing your seat for now. The facilitator can give it back to you."),
    "game_over": _l("The game is over."),
    "week_of": _l("Week %(week)s of %(weeks)s"),
    "week_n": _l("Week %(n)s"),
    "end_hidden": _l("The game ends after week %(weeks)s. The players are not told."),
    "end_told": _l("The game ends after week %(weeks)s. The players know."),
    "confirm_reveal_end": _l("Tell every player the last week? This cannot be undone."),
    "your_costs": _l("Your costs each week:"),
    "rate_holding": _l("%(x)s per unit in stock"),
    "rate_backlog": _l("%(x)s per unit owed (backlog)"),
    "rate_capacity": _l("%(x)s per unit of capacity"),
    "rate_capacity_change": _l("%(x)s per unit of capacity changed"),
    "rate_fulfilment": _l("%(x)s per parcel sent"),
    "week": _l("Week"),
    "seconds_left": _l("%(s)s s left"),
    "decided_by": _l("Decided: %(n)s of %(total)s"),
    "bot": _l("bot"),
    "human": _l("player"),
    "you": _l("you"),
    "rank": _l("Rank %(rank)s of %(n)s"),
    "bad_number": _l("Enter a whole number between %(lo)s and %(hi)s."),
    "join_failed": _l("Could not join: %(message)s"),
    "join_over": _l("This game is over: it takes no new players."),
    "any_team": _l("Any team"),
    "any_role": _l("Any free role"),
    "team_n": _l("Team %(n)s"),
    "full": _l("full"),
    "rows_help": _l("One entry per group, separated by semicolons; the values of an entry by commas."),
    "taken": _l("taken"),
    "unknown_session": _l("No game with this code."),
    "arrives_in": _l("in %(n)s wk"),
    "nothing_on_way": _l("Nothing on the way."),
    "inventory": _l("On hand"),
    "backlog": _l("Backlog"),
    "orders": _l("Orders"),
    "incoming": _l("Incoming orders"),
    "demand": _l("Consumer demand"),
    "cost": _l("Cost"),
    "money": _l("Money"),
    "cost_is": _l("cost %(cost)s"),
    "profit": _l("Profit"),
    "holding": _l("Holding"),
    "backlog_cost": _l("Backlog"),
    "lost_sales": _l("Lost sales: goodwill"),
    "lost_margin_part": _l("Lost sales: margin not earned"),
    "capacity_cost": _l("Capacity"),
    "fulfilment": _l("Fulfilment"),
    "other_cost": _l("Material and write-off"),
    "copied": _l("Copied"),
    "to_bot": _l("Bot takes over"),
    "to_human": _l("Back to player"),
    "seat_to_bot": _l("Let a bot play %(role)s of team %(team)s"),
    "seat_to_human": _l("Give %(role)s of team %(team)s back to its player"),
    "confirm_end": _l("End the game for every team now?"),
    "control_failed": _l("That did not work: %(message)s"),
    "status_setup": _l("Not started"),
    "status_running": _l("Running"),
    "status_paused": _l("Paused"),
    "status_over": _l("Over"),
    "no_results": _l("Results are not available (yet)."),
    "results_after_game": _l(
        "The results open for players once every team has finished or the facilitator has ended the game."
    ),
    "results_how_to_open": _l(
        'The results are for the facilitator. Open this page from the dashboard ("Debrief"), or on another '
        'device from the dashboard\'s "Link for another device", or paste the facilitator secret below. '
        "Players see their team's results from their own phone once the game is over."
    ),
    "ended_early": _l("The game ended after week %(played)s of %(weeks)s."),
    "demand_steady": _l("Consumer demand stayed at %(n)s a week in the %(weeks)s weeks played."),
    "demand_range": _l("Consumer demand ranged from %(lo)s to %(hi)s a week in the %(weeks)s weeks played."),
    "from_week": _l("(from week %(week)s)"),
    "strategy_switch": _l(
        "At the review of week %(week)s the team moved from %(from)s to %(to)s; "
        "the weeks before were played as %(from)s."
    ),
    "players_list": _l("Players: %(players)s"),
    "players_none": _l("Bots played every seat of this team."),
    "best_plan": _l("Best plan"),
    "reference_plan": _l("Reference plan"),
    "reference_note": _l(
        "This team earned %(earned)s. The reference plan at its decoupling point (%(position)s), tuned on other"
        " demand and played on this team's, earns %(own)s; the best position on this demand is %(best)s"
        " (%(best_profit)s). Over many demand histories the preset's winner is %(winner)s."
    ),
    "this_team": _l("This team"),
    "open_seat": _l("open"),
    "visible_demand": _l("Consumer demand (point of sale)"),
    "visible_inventories": _l("Other stages' stock and backlog"),
    "visible_pipelines": _l("Other stages' goods on the way"),
    "visible_own": _l("Your own stock, backlog, orders and goods on the way"),
    "hidden": _l("hidden"),
    "shown": _l("shown"),
    "class": _l("Whole class"),
    "more_teams": _l("… and %(n)s more teams"),
    "err_bad_request": _l("The server did not understand that request."),
    "err_unknown_session": _l("No game with this code."),
    "err_bad_token": _l("This seat is no longer yours. Join again."),
    "err_seat_taken": _l("Someone else already has that seat. Pick another role."),
    "err_team_full": _l("That team is full. Pick another team."),
    "err_not_joined": _l("Join the game first."),
    "err_stale_week": _l("That week is already over."),
    "err_already_decided": _l("You already decided this week."),
    "err_out_of_bounds": _l("That number is outside the allowed range."),
    "err_forbidden": _l("You are not allowed to do that."),
    "err_not_running": _l("The game is not running right now."),
    "err_invalid_name": _l("Please use a name of 1 to 30 ordinary characters."),
    "err_rate_limited": _l("Slow down a little and try again."),
    "err_timeout": _l("No answer from the server. Check the connection and try again."),
    # the chain as a picture (js/chain.js) and the class's view on the projector (js/projector.js)
    "chain_caption": _l("Your supply chain this week, stage by stage (upstream first)"),
    "chain_wip": _l("In work"),
    "chain_not_shared": _l("not shared"),
    "chain_moved": _l("this week: %(received)s in, %(shipped)s out"),
    "chain_finishes": _l("generic stock, finished per variant"),
    "chain_variants": _l("variants: %(names)s"),
    "chain_regions": _l("regions: %(names)s"),
    "chain_codp": _l("Decoupling point"),
    "chain_codp_above": _l("decoupling point just upstream: customer orders reach this stage"),
    "chain_codp_here": _l("decoupling point: consumers are served from this stage's stock"),
    "chain_demand": _l("demand %(demand)s"),
    "chain_lost": _l("%(lost)s walked away"),
    "chain_consumers": _l("Consumers"),
    "chain_works": _l("Works"),
    "chain_goods": _l("Goods on the way in"),
    "chain_orders": _l("Orders in the mail to the supplier"),
    "chain_legend_goods": _l("goods on the way (the lowest arrives next week)"),
    "chain_legend_orders": _l("orders in the mail (the highest arrives first)"),
    "chain_legend_mto": _l("works to order (dashed); above the decoupling point, to stock"),
    "chain_class_caption": _l("The chain every team plays, with the class's median order per stage"),
    "chain_median_order": _l("median order %(n)s"),
    "orders_chart": _l("Orders per stage, all teams"),
    "orders_chart_note": _l(
        "Median order of each stage week by week, the band from the 10th to the 90th percentile of the teams;"
        " weeks every team has played."
    ),
    "orders_summary": _l("Orders in week %(week)s: %(parts)s"),
    "orders_chart_wait": _l("The orders appear here once every team has played a week."),
    "orders_spread": _l("%(stage)s median %(median)s (%(lo)s to %(hi)s)"),
    "decided_strip": _l("Who has decided"),
    "decided_summary": _l("%(done)s of %(n)s teams have decided their week; players still deciding: %(left)s"),
    "team_decided_of": _l("%(team)s: week %(week)s, %(n)s of %(total)s decided"),
    "decided_none": _l("No team has a player yet: bots play every seat."),
    "teams_page": _l("Teams %(from)s to %(to)s of %(n)s"),
    "bullwhip_ratio": _l("Bullwhip ratio"),
    "computing": _l("Computing the best plans…"),
    "codp_mts-local": _l("Make and ship to stock"),
    "codp_mts-central": _l("Make to stock, central"),
    "codp_ato": _l("Assemble to order"),
    "codp_mto": _l("Make to order"),
    "codp_eto": _l("Purchase / engineer to order"),
    "codp_per-need": _l("One standard process per real need"),
    "codp_per-segment": _l("One process per segment"),
    "codp_process": _l("%(position)s for %(segments)s"),
    "codp_process_cost": _l("The processes beyond the first cost %(cost)s a week"),
    "avg_lead_time": _l("Average lead time (weeks)"),
    "bad_code": _l("A game code has 3 to 12 letters and digits."),
    "bullwhip_source": _l("Bullwhip at the source"),
    "codp_default": _l("As in the preset"),
    "generic_stock": _l("generic (before the variant is made)"),
    "look_inside": _l("Look inside"),
    "shop_mts": _l("web shop from stock"),
    "shop_mto": _l("web shop drop-ships"),
    "compare_note": _l(
        "Profit is revenue minus cost (minus the cost when nothing is sold): higher is better. "
        "The best plans are played by the computer on the same consumer demand, with a fixed order-up-to "
        "level per stock point and a fixed capacity per make-to-order stage."
    ),
    "no_compare": _l("No comparison is available for this game."),
    "copy_this": _l("Copy this link (it contains the facilitator secret):"),
    "demand_recent": _l("Consumer demand, last weeks"),
    "accepted_recent": _l("Of which accepted (sold or waiting), last weeks"),
    "demand_breakdown": _l("Consumer demand this week, per stock point"),
    "deal_terms": _l(
        "%(segment)s (%(share)s of demand): orders known %(horizon)s weeks ahead, %(lead_time)s weeks' lead time"
        " accepted, %(discount)s off the price"
    ),
    "deal_on": _l("The deal is in force."),
    "deal_never": _l("Co-makership: this team never offered its customers the deal."),
    "deal_weeks": _l(
        "Co-makership: the deal was in force %(n)s of %(of)s weeks (weeks %(first)s to %(last)s), with %(revenue)s"
        " of revenue in those weeks."
    ),
    "deal_off": _l("No deal for now."),
    "promise_made": _l("Promise to the week's customers"),
    "promise_to_served": _l("Promised to the customers served"),
    "lead_time_delivered": _l("Lead time delivered"),
    "lead_time_weeks": _l("Lead time (weeks)"),
    "promise_summary": _l(
        "Broken promises: %(broken)s units delivered later than promised (%(share)s of those with a promise),"
        " costing %(cost)s in late penalties and cancelled customers."
    ),
    "advance_orders": _l("Co-makers' orders known ahead, weeks %(first)s to %(last)s"),
    "advance_share": _l("the co-makers are %(share)s of demand; the rest is not known ahead"),
    "done_action": _l("Done."),
    "fill_rate": _l("Fill rate"),
    "demand_served": _l("Demand served"),
    "has_decided": _l("has decided"),
    "not_decided": _l("has not decided yet"),
    "history_chart": _l("Your last weeks"),
    "lost_margin": _l("Margin lost on customers who left"),
    "lost_share": _l("Demand lost"),
    "mode_mto": _l("to order"),
    "mode_mts": _l("to stock"),
    "need_name": _l("Please enter your name."),
    "net_stock": _l("Stock minus backlog"),
    "no_secret": _l(
        "This browser does not hold the facilitator secret for this game. Paste it below, "
        "or open the link for another device from the dashboard that created the game."
    ),
    "offline": _l("offline"),
    "on_the_way": _l("On the way"),
    "rejoin": _l("You are playing game %(code)s as %(name)s."),
    "score": _l("Profit"),
    "stage": _l("Stage"),
    "submitted_wait": _l("Submitted. Waiting for the others…"),
    "weeks_played": _l("Weeks played"),
    # the set-up form's own scenario, the debrief's slides, a player's first minute
    "own_scenario": _l("Own scenario: %(title)s"),
    "err_invalid_scenario": _l("The scenario is not valid."),
    "save_png": _l("Save as PNG"),
    "intro_title": _l("You are the %(role)s"),
    "intro_arrives": _l(
        "What arrives: the goods you ordered from %(supplier)s, about %(weeks)s weeks after you ordered them."
    ),
    "intro_arrives_source": _l("What arrives: what you put into production, about %(weeks)s weeks later."),
    "intro_ships_consumers": _l("What you ship: what consumers ask for each week, as far as your stock allows."),
    "intro_ships": _l(
        "What you ship: the orders of %(customers)s, as far as your stock allows; "
        "what you cannot ship yet is owed (backlog)."
    ),
    "intro_ships_mto": _l(
        "What you ship: the orders of %(customers)s, as goods arrive and your capacity allows; "
        "what you cannot ship yet is owed (backlog)."
    ),
    "intro_ships_consumers_mto": _l("What you ship: what consumers ordered, as goods arrive and your capacity allows."),
    "intro_arrives_mto": _l(
        "What arrives: the goods for your customers' orders, from %(supplier)s, about %(weeks)s weeks after"
        " the orders went out."
    ),
    "intro_number_order": _l("Your one number each week: how many cases to order from %(supplier)s."),
    "intro_number_source": _l("Your one number each week: how many cases to put into production."),
    "intro_number_capacity": _l(
        "Your one number each week: your capacity, how many cases you can make per week."
        " You work to order: you make what customers ordered."
    ),
    "intro_number_capacity_pass": _l(
        "Your one number each week: your capacity, how many cases you can handle and pass on per week."
        " You work to order: each customer order goes to %(supplier)s at once, so you do not order yourself."
    ),
    "intro_costs": _l("What costs money, each week: %(rates)s. Your team's total counts."),
}


def js_catalogue(keys: Iterable[str] | None = None) -> dict[str, str]:
    """``JS_STRINGS`` (only ``keys`` when given) rendered in the request's language."""
    wanted = JS_STRINGS.keys() if keys is None else keys
    return {key: str(JS_STRINGS[key]) for key in wanted}


_QUOTED = re.compile(r"[\"'`]([a-z][a-z0-9_-]*)")  # a string's first word: t("key"), t("err_" + code)
_PROPERTY = re.compile(r"catalogue\.([a-z][a-z0-9_]*)")  # catalogue.detail_en


def js_keys(scripts: Iterable[str]) -> frozenset[str]:
    """The keys of ``JS_STRINGS`` the script texts ``scripts`` may ask for: every key they
    quote or read from the catalogue, and every key that starts with a quoted stem ending in
    ``_`` (``t("err_" + code)``). A page thus carries its own strings, not every page's."""
    named: set[str] = set()
    for text in scripts:
        named.update(_QUOTED.findall(text), _PROPERTY.findall(text))
    stems = tuple(n for n in named if n.endswith("_"))
    return frozenset(k for k in JS_STRINGS if k in named or k.startswith(stems))
