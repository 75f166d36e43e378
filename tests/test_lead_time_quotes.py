"""The lead time quoted to a customer is what the chain then delivers: over games played by the
preset's reference plans, the mean lead time promised to the customers and the mean lead time
they got agree within half a week at every position of every preset. Promise and delivery are
compared for the same customers: those served in the game, and those still waiting at its end
whose promised week has passed (counted at the least lead time they can still get). A customer
whose promised week is still to come when the game ends cannot be judged either way, nor can one
who cancelled (reneging: the wait passed the customer's patience, after the promise had passed)."""

from __future__ import annotations

import pytest

from game.analysis.bestplan import Plan
from game.analysis.reference import stored
from game.codp import apply_codp
from game.horizon import last_week
from game.scenario import Scenario, list_presets, load_scenario, scenario_from_dict
from game.simulate import simulate
from game.state import GameState

# where a sales seat promises (``[sales]``), the promise is that seat's decision, not the chain's quote
PRESETS = [name for name in list_presets() if load_scenario(name).codp_positions and load_scenario(name).sales is None]
SEEDS = (10_000, 10_001, 10_002)  # test seeds of the stored references
CASES = [(name, pos) for name in PRESETS for pos in load_scenario(name).codp_positions]


def _waiting(scn: Scenario, state: GameState) -> tuple[float, int, float, float]:
    """The customers still waiting at the end of the game: the lead time promised to all of
    them, and of those whose promised shipping week has passed their number, their promise and
    the least lead time they get (shipped the week after the last)."""
    net = scn.network
    st = state.stages if state.nodes is None else state.nodes
    end = last_week(scn, state)
    held = promised = least = 0.0
    overdue = 0
    for i in net.facing:
        delay = net.specs[i].delivery_delay
        for week, n, _segment, _price, promise in st[i].open_orders:
            if promise is None:
                continue
            held += n * promise
            if week + promise - delay <= end:
                overdue += n
                promised += n * promise
                least += n * (end + 1 - week + delay)
    return held, overdue, promised, least


@pytest.mark.parametrize(("name", "position"), CASES)
def test_quoted_and_delivered_lead_times_agree(name: str, position: str) -> None:
    base = load_scenario(name)
    data = stored(base)
    assert data is not None, f"run python -m game reference --scenario {name} --save"
    row = next(r for r in data["positions"] if r["position"] == position)
    scn = apply_codp(base, position)
    plan = Plan(position, row["levels"], row["capacities"], 0.0)
    promised = delivered = 0.0
    judged = 0
    for seed in SEEDS:
        game = simulate(scn, seed, plan.policies())
        quoted = kept = 0.0
        reneged = 0
        for week in game.weeks:
            for ev in week["roles"].values():
                if "demand" in ev:
                    # every customer served in these games had been promised a lead time
                    assert ev["promised_sold"] == ev["sold"], week["week"]
                    quoted += ev["quoted_sum"]
                    kept += ev["promised_sum"]
                    promised += ev["promised_sum"]
                    delivered += ev["lead_time_sum"]
                    judged += ev["sold"]
                    reneged += ev["reneged"] or 0
        held, overdue, promise, least = _waiting(scn, game.state)
        # what was promised on acceptance is what the customers served and those waiting hold,
        # beside what those who cancelled had been promised (within the game's length each)
        assert kept + held <= quoted + 1e-6
        assert quoted - (kept + held) <= reneged * len(game.weeks) + 1e-6
        if not reneged:
            assert quoted == pytest.approx(kept + held)
        promised += promise
        delivered += least
        judged += overdue
    assert judged
    got, quoted_mean = delivered / judged, promised / judged
    assert abs(quoted_mean - got) <= 0.5, (round(quoted_mean, 2), round(got, 2))


# A maker with 2 units buys from an outside source (one week in the mail, one on the road) and
# supplies a shop whose orders take two weeks in the mail and one on the road; one customer a
# week, who waits up to ten weeks. The shop orders 4 in week 1, the maker 2 in week 3.
CHAIN = {
    "name": "t",
    "weeks": 6,
    "unit_cost": 1.0,
    "demand": {"kind": "constant", "base": 1},
    "segments": [{"name": "all", "share": 1.0, "price": 5.0, "tolerance": 10}],
    "stages": [
        {"role": "maker", "order_delay": 1, "ship_delay": 1, "on_hand": 2, "orders": [0], "shipments": [0]},
        {
            "role": "shop",
            "supplier": "maker",
            "order_delay": 2,
            "ship_delay": 1,
            "on_hand": 0,
            "orders": [0, 0],
            "shipments": [0],
            "market_share": 1.0,
        },
    ],
}


def test_goods_in_the_mail_or_owed_are_quoted_when_they_come() -> None:
    scn = scenario_from_dict(CHAIN, "test")
    weeks = [
        w["roles"]["shop"]
        for w in simulate(scn, orders={"shop": [4, 0, 0, 0, 0, 0], "maker": [0, 0, 2, 0, 0, 0]}).weeks
    ]
    # week 1: nothing on the way: an order placed now reaches the maker in week 3, who has stock,
    #   and arrives in week 4: 3 weeks
    # week 2: the 4 ordered in week 1 reach the maker in week 3 (its 2 cover this second
    #   customer) and arrive in week 4: 2 weeks, not a fresh order's 3
    # week 3: the 4 reach the maker now, but the third customer's unit is beyond its 2: the
    #   maker's order placed now comes in week 5, the shop has it in week 6: 3 weeks
    # week 4: the shop got 2 (for the first two customers); the maker owes it 2 and gets its 2
    #   in week 5, so the fourth customer's unit arrives in week 6: 2 weeks, not the 5 of a fresh
    #   order that waits for the maker's own fresh order
    # week 5: the maker owes 2 (for the third and fourth); the fifth needs the shop's order
    #   placed now (at the maker in week 7) and the maker's (its goods there in week 7): 3 weeks
    assert [ev["quoted_lead_time"] for ev in weeks[:5]] == [3, 2, 3, 2, 3]
    assert [ev["quoted_sum"] for ev in weeks] == [3, 2, 3, 2, 3, 3]
    # served in week 4: the customers of weeks 1 and 2 (3 and 2 weeks); in week 6: weeks 3 and 4
    for w in (3, 5):
        assert weeks[w]["sold"] == 2
        assert weeks[w]["lead_time_sum"] == weeks[w]["promised_sum"] == 5
    assert sum(ev["sold"] for ev in weeks) == 4
