"""The stock points the engine plays: one per role, or one per variant and region.

A role (a player's seat) is one *node* in a scenario without variants or regions. With
variants, every role from the differentiation stage down holds stock per variant; the
differentiation stage itself is a generic node (materials or modules, what the player
orders or makes) followed by one *finishing* node per variant, which always works to
order within the final step's capacity (assembly, configuration, labelling). With
regions, the consumer-facing retail role holds stock per region (and variant); the
central stage above it serves every region.

The engine plays nodes; everything outside it sees roles (``GameState.stages`` and the
week's events are per role, with a per-node breakdown). A role's one decision applies
to its *decide* nodes: a make-to-stock role's order is shared out over them by
``split_order``; a make-to-order role's capacity is one pool they share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from game.codp import POSITIONS, apply_codp, customisable, retail_path
from game.demand import split

if TYPE_CHECKING:
    from game.scenario import Scenario, StageSpec

#: Capacity that never binds (a finishing step or make-to-stock stage without a limit).
UNLIMITED = 10**9


@dataclass(frozen=True)
class Node:
    """One stock point."""

    role: int
    spec: StageSpec
    variant: int = -1
    region: int = -1
    finish: bool = False
    share: float = 1.0
    label: str = ""
    #: the position of a segments' own process (``Scenario.lanes``; "": none): a consumer-facing
    #: node of the facing role that works to order from the process's decoupling stage
    process: str = ""
    #: the segments (indices) whose customers buy here; None: every segment
    serves: tuple[int, ...] | None = None


class Network:
    """Nodes and their links by index (the engine's topology)."""

    def __init__(self, scenario: Scenario, nodes: list[Node], supplier: list[int]) -> None:
        self.nodes = tuple(nodes)
        self.specs = [nd.spec for nd in nodes]
        self.n = len(nodes)
        self.identity = self.n == len(scenario.stages)
        self.supplier = supplier
        self.role_of = [nd.role for nd in nodes]
        nroles = len(scenario.stages)
        self.groups: list[list[int]] = [[i for i in range(self.n) if self.role_of[i] == r] for r in range(nroles)]
        self.decide: list[list[int]] = [
            [i for i in g if not nodes[i].finish and not nodes[i].process] for g in self.groups
        ]
        self.finish: list[list[int]] = [[i for i in g if nodes[i].finish] for g in self.groups]
        #: per role, the nodes of the segments' own processes it sells through (not its outlets:
        #: their flows, backlog and stock are the processes', only their money is the role's)
        self.lanes: list[list[int]] = [[i for i in g if nodes[i].process] for g in self.groups]
        #: per role, the nodes that ship to its customers (its final steps, else its decide nodes)
        self.outlets: list[list[int]] = [f or d for f, d in zip(self.finish, self.decide, strict=True)]
        self.customers: list[list[int]] = [
            [-1] if nd.spec.consumer_facing else [j for j in range(self.n) if supplier[j] == i]
            for i, nd in enumerate(nodes)
        ]
        self.slot: list[int] = [-1 if supplier[j] < 0 else self.customers[supplier[j]].index(j) for j in range(self.n)]
        self.facing: list[int] = [i for i, nd in enumerate(nodes) if nd.spec.consumer_facing]
        #: the consumer-facing nodes with a row of the demand table (a process shares its role's)
        self.markets: list[int] = [i for i in self.facing if not nodes[i].process]
        market_of = {nd.role: self.markets.index(i) for i, nd in enumerate(nodes) if i in self.markets}
        self.channel: list[int] = [
            -1 if i not in self.facing else market_of[nd.role] if nd.process else self.markets.index(i)
            for i, nd in enumerate(nodes)
        ]
        self.serves: list[tuple[int, ...] | None] = [nd.serves for nd in nodes]
        #: per node, a fixed cost per week (a segment's own process: ``process_cost``)
        self.fixed_cost: list[float] = [scenario.process_cost if nd.process else 0.0 for nd in nodes]
        self.segment_order: list[int] = sorted(
            range(len(scenario.segments)), key=lambda k: (scenario.segments[k].thresholds[0][0], k)
        )
        self.simple_market = all(seg.tolerance == math.inf and not seg.patience for seg in scenario.segments) and all(
            self.specs[i].delivery_delay == 0 for i in self.facing
        )
        # capacity pools: nodes that share one capacity (a role's decide nodes; its finishing nodes)
        self.pools: list[list[int]] = [p for g in self.decide + self.finish for p in [g] if p]
        self.pools += [[i] for g in self.lanes for i in g]
        self.pool_of = [0] * self.n
        for k, p in enumerate(self.pools):
            for i in p:
                self.pool_of[i] = k
        self.bills = [self.pools[self.pool_of[i]][0] == i for i in range(self.n)]
        self.shared = any(len(p) > 1 for p in self.pools)
        # a node whose customers are the role's customers one to one (its owed list is the role's)
        self.role_slot_identity = [
            all(c >= 0 and len(self.groups[self.role_of[c]]) == 1 for c in self.customers[i])
            or self.customers[i] == [-1]
            for i in range(self.n)
        ]
        #: per node, whether its customers get the tailored product (a process's own position;
        #: None: the chain's stage modes decide, ``game.codp.customisable``)
        self.custom: list[bool | None] = [None] * self.n
        for i, nd in enumerate(nodes):
            if nd.process:
                self.custom[i] = lane_customisable(scenario, nd.process)
        #: the links between roles (one entry per role), read off the nodes
        self.topology = Topology(self)
        # where the role's order goes to its supplier role's nodes: the role-level customer slots
        self.role_slot = [self.topology.slot[r] for r in self.role_of]

    def demand_at(self, row: list[list[int]], i: int) -> list[int]:
        """Consumer-facing node ``i``'s demand per segment in a week's ``row`` of the demand
        table: its channel's, for the segments it serves."""
        demand = row[self.channel[i]]
        serves = self.serves[i]
        if serves is None:
            return demand
        return [d if k in serves else 0 for k, d in enumerate(demand)]


class Topology:
    """The links between roles by index (who supplies whom, in which order a role's customers
    are served), read off a network's nodes: a role's first node links as the role does."""

    def __init__(self, net: Network) -> None:
        first = [group[0] for group in net.groups]
        self.n = len(first)
        self.supplier: list[int] = [-1 if net.supplier[i] < 0 else net.role_of[net.supplier[i]] for i in first]
        self.facing: list[int] = [
            r for r, group in enumerate(net.groups) if any(net.specs[i].consumer_facing for i in group)
        ]
        # customers[r]: downstream role indices, or [-1] for the consumer.
        self.customers: list[list[int]] = [
            [-1] if r in self.facing else [c for c in range(self.n) if self.supplier[c] == r] for r in range(self.n)
        ]
        # slot[r]: position of role r among its supplier's customers.
        self.slot: list[int] = [-1 if s < 0 else self.customers[s].index(r) for r, s in enumerate(self.supplier)]


def lane_customisable(scenario: Scenario, position: str) -> bool:
    """True when a process at ``position`` customises (``game.codp.customisable`` of the
    stage modes that position gives the chain, ``game.codp.apply_codp``)."""
    return customisable(scenario, {s.role: s.mode for s in apply_codp(scenario, position).stages})


def _downstream_of(scenario: Scenario, role: str) -> set[str]:
    """Roles whose supply comes through ``role`` (``role`` excluded)."""
    out: set[str] = set()
    changed = True
    while changed:
        changed = False
        for s in scenario.stages:
            if s.supplier is not None and (s.supplier == role or s.supplier in out) and s.role not in out:
                out.add(s.role)
                changed = True
    return out


def _share_spec(spec: StageSpec, share: float, k: int, shares: list[float]) -> StageSpec:
    """The role's spec for one of its nodes: initial stock and pipelines split by expected share."""

    def part(value: int) -> int:
        return split(value, shares)[k]

    return replace(
        spec,
        on_hand=part(spec.on_hand),
        backlog=part(spec.backlog),
        orders=tuple(part(v) for v in spec.orders),
        shipments=tuple(part(v) for v in spec.shipments),
        market_share=spec.market_share * share,
    )


def build_network(scenario: Scenario) -> Network:
    """The nodes of ``scenario`` (one per role unless it has variants or regions)."""
    stages = scenario.stages
    if not scenario.expanded:
        roles = scenario.roles
        return Network(
            scenario,
            [Node(r, s, label=s.role) for r, s in enumerate(stages)],
            [-1 if s.supplier is None else roles.index(s.supplier) for s in stages],
        )
    product = scenario.product
    diff = product.differentiation_stage
    variants = product.variants if diff else ()
    below = _downstream_of(scenario, diff) if diff else set()
    regional = retail_path(scenario)[0] if len(scenario.regions) > 1 else None
    nodes: list[Node] = []
    supplier: list[int] = []
    where: dict[tuple[str, int, int], int] = {}  # (role, variant, region) -> node; finish nodes as region -2

    def add(node: Node, sup: int, key: tuple[str, int, int]) -> None:
        where[key] = len(nodes)
        nodes.append(node)
        supplier.append(sup)

    for r, spec in enumerate(stages):
        role = spec.role
        vs = list(range(len(variants))) if role in below else [-1]
        rs = list(range(len(scenario.regions))) if role == regional else [-1]
        combos = [(v, g) for g in rs for v in vs]
        shares = [
            (variants[v].share if v >= 0 else 1.0) * (scenario.regions[g].share if g >= 0 else 1.0) for v, g in combos
        ]
        for k, (v, g) in enumerate(combos):
            sup = -1
            if spec.supplier is not None:
                sup_role = spec.supplier
                sup = where.get((sup_role, v, -2)) if sup_role == diff else None
                if sup is None:
                    sup = where[(sup_role, v if sup_role in below else -1, -1)]
            name = "/".join(
                x for x in (role, variants[v].name if v >= 0 else "", scenario.regions[g].name if g >= 0 else "") if x
            )
            node_spec = _share_spec(spec, shares[k], k, shares) if len(combos) > 1 else spec
            add(Node(r, node_spec, v, g, False, shares[k], name), sup, (role, v, g))
        if role == diff:
            generic = where[(role, -1, -1)]
            rate = spec.orders or spec.shipments or (0,)
            # the final step starts full at the usual rate, out of the generic stock
            flow = min(round(sum(rate) / len(rate)), nodes[generic].spec.on_hand // product.finish_delay)
            nodes[generic] = replace(
                nodes[generic],
                spec=replace(nodes[generic].spec, on_hand=nodes[generic].spec.on_hand - flow * product.finish_delay),
            )
            vshares = [v.share for v in variants]
            for v, variant in enumerate(variants):
                first = split(flow, vshares)[v]
                finish = replace(
                    spec,
                    mode="mto",
                    order_delay=1,
                    ship_delay=product.finish_delay,
                    on_hand=0,
                    backlog=0,
                    orders=(0,),
                    shipments=(first,) * product.finish_delay,
                    holding_cost=spec.holding_cost
                    if product.finish_holding_cost is None
                    else product.finish_holding_cost,
                    capacity=product.finish_capacity or UNLIMITED,
                    capacity_cost=product.finish_capacity_cost,
                    capacity_change_cost=0.0,
                    mts_capacity=0,
                    market_share=0.0,
                )
                add(Node(r, finish, v, -1, True, variant.share, f"{role}/{variant.name}"), generic, (role, v, -2))
    if scenario.lanes:
        _add_lanes(scenario, nodes, supplier, where)
    return Network(scenario, nodes, supplier)


def _add_lanes(
    scenario: Scenario, nodes: list[Node], supplier: list[int], where: dict[tuple[str, int, int], int]
) -> None:
    """The segments' own processes (``Scenario.lanes``), in place: per process, a node of the
    consumer-facing role that sells to its segments' customers and works to order, without a
    capacity limit, from the stock of the process's decoupling stage (its supplier), with the
    lead time of the stages between (their order and ship delays added up). The facing role's
    own node keeps the other segments' customers."""
    path = retail_path(scenario)
    facing = where[(path[0], -1, -1)]
    served = {k for _, segs in scenario.lanes for k in segs}
    rest = tuple(k for k in range(len(scenario.segments)) if k not in served)
    nodes[facing] = replace(nodes[facing], serves=rest)
    spec = nodes[facing].spec
    for position, segs in scenario.lanes:
        below = [scenario.stage(role) for role in path[: POSITIONS[position].depth]]
        order_delay = sum(s.order_delay for s in below)
        ship_delay = sum(s.ship_delay for s in below)
        lane = replace(
            spec,
            mode="mto",
            order_delay=order_delay,
            ship_delay=ship_delay,
            on_hand=0,
            backlog=0,
            orders=(0,) * order_delay,
            shipments=(0,) * ship_delay,
            capacity=UNLIMITED,
            capacity_cost=0.0,
            capacity_change_cost=0.0,
            mts_capacity=0,
            wip_holding_cost=0.0,
        )
        label = f"{path[0]}/{position}"
        nodes.append(Node(nodes[facing].role, lane, label=label, process=position, serves=segs))
        supplier.append(where[(path[POSITIONS[position].depth], -1, -1)])


#: Weeks of observed demand the expected mix counts for in a role's learnt mix (``learn_mix``).
MIX_PRIOR_WEEKS = 8


def learn_mix(mix: list[float], groups: list[list[int]], demand: list[int], week: int) -> None:
    """Update, in place, each stock point's share of its role's demand after ``week``: the
    average of the expected mix, counted as ``MIX_PRIOR_WEEKS`` weeks, and of the shares
    observed each week so far, i.e. share += (the point's demand / its role's demand this
    week - share) / (MIX_PRIOR_WEEKS + week), for each group of ``groups`` (a role's stock
    points that share one order). A week without demand leaves the group's shares alone.
    The shares keep summing to one; a mix drawn per game is learnt, a steady one stays put."""
    gain = 1.0 / (MIX_PRIOR_WEEKS + week)
    for group in groups:
        total = sum(demand[i] for i in group)
        if total > 0:
            for i in group:
                mix[i] += (demand[i] / total - mix[i]) * gain


def split_order(order: int, positions: list[int], shares: list[float]) -> list[int]:
    """Share a role's one order out over its nodes (variants, regions).

    The rule, as the player screen states it: the order goes where stock is shortest
    against each node's share of demand (``shares``: the mix observed so far, ``learn_mix``).
    Each node's inventory position (stock minus backlog plus everything on order) is brought
    as close as possible to its share of the total position after the order
    (water-filling), whole units by largest remainder.
    """
    if len(positions) == 1:
        return [order]
    if order <= 0:
        return [0] * len(positions)
    # the level L with sum(max(0, share * L - position)) == order: nodes join in the order
    # of position / share, each one's need rising with L from there
    keys = [(p / s if s else math.inf, k) for k, (p, s) in enumerate(zip(positions, shares, strict=True))]
    ks = [k for _, k in sorted(keys)]
    rate = 0.0  # d(need)/dL of the nodes in
    base = 0.0  # sum of their positions
    hi = 0.0
    for n, k in enumerate(ks):
        if not shares[k]:
            break
        rate += shares[k]
        base += positions[k]
        hi = (order + base) / rate
        nxt = ks[n + 1] if n + 1 < len(ks) else None
        if nxt is None or not shares[nxt] or hi <= positions[nxt] / shares[nxt]:
            break
    raw = [max(0.0, s * hi - p) for s, p in zip(shares, positions, strict=True)]
    need = sum(raw)
    scale = order / need if need > 0 else 0.0
    raw = [x * scale for x in raw]
    parts = [int(x) for x in raw]
    rest = order - sum(parts)
    if rest:  # the largest fractions first, ties to the first node
        for _, k in sorted([(parts[k] - raw[k], k) for k in range(len(raw))])[:rest]:
            parts[k] += 1
    return parts
