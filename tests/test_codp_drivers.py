"""Olhager's drivers move the reference plan's profit gap between positions the way the
literature says, one driver at a time on a base scenario (out of sample: plans tuned on
training seeds, scored on other seeds). Small budgets: these compare gaps, not optima."""

from __future__ import annotations

from dataclasses import replace

from game.analysis.reference import reference
from game.scenario import Scenario, load_scenario


def gap(scn: Scenario, a: str, b: str) -> float:
    """Mean test profit of position ``a`` minus that of ``b`` (reference plans)."""
    ref = reference(scn, train=3, test=12, budget=16, positions=[a, b])
    means = {r.position: r.mean for r in ref.rows}
    return means[a] - means[b]


def test_more_regional_markets_favour_the_central_stock() -> None:
    base = load_scenario("decoupling-point")
    one = replace(base, name="one-region", regions=())
    four = base
    assert len(four.regions) == 4
    assert gap(four, "mts-central", "mts-local") > gap(one, "mts-central", "mts-local")


def test_shorter_accepted_lead_times_move_the_codp_downstream() -> None:
    base = load_scenario("customer-intimacy")
    tailored = base.segments[1]
    hurried = replace(tailored, patience=tuple((w / 2, s) for w, s in tailored.patience))
    short = replace(base, name="short-patience", segments=(base.segments[0], hurried))
    assert gap(short, "mto", "mts-local") < gap(base, "mto", "mts-local")


def test_more_variants_favour_assembling_to_order() -> None:
    base = load_scenario("product-leadership")
    one = replace(base, name="one-variant", product=replace(base.product, variants=base.product.variants[:1]))
    one = replace(one, product=replace(one.product, variants=(replace(one.product.variants[0], share=1.0),)))
    assert gap(base, "ato", "mts-central") > gap(one, "ato", "mts-central")


def test_a_larger_customisation_premium_favours_making_to_order() -> None:
    base = load_scenario("customer-intimacy")
    tailored = base.segments[1]
    richer = replace(base, name="richer", segments=(base.segments[0], replace(tailored, premium=tailored.premium * 2)))
    assert gap(richer, "mto", "mts-local") > gap(base, "mto", "mts-local")


def test_dearer_finished_goods_favour_an_upstream_codp() -> None:
    base = load_scenario("decoupling-point")
    dear = base.with_stages(
        tuple(replace(s, holding_cost=s.holding_cost * 3) if s.role == "retailer" else s for s in base.stages)
    )
    dear = replace(dear, name="dear-shop")
    assert gap(dear, "mts-central", "mts-local") > gap(base, "mts-central", "mts-local")
