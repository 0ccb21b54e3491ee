"""Needs ↔ resources: the best assignment, as a min-cost maximum flow (pure Python, no Django).

Given needs (category, position, demand) and resources (category, position, capacity), find the
amounts ``x[need, resource]`` that

1. cover as much demand as possible (Σ x is maximal), and then
2. among those, travel the least: Σ x × distance is minimal,

pairing only a need and a resource of the same category, optionally no farther apart than
``max_distance_m``, and never a pair listed in ``forbidden`` (a pairing someone declined).

Neither scipy nor networkx is installed, so the solver is a small successive-shortest-path
min-cost flow: source → need (capacity = demand, cost 0) → resource (cost = distance in whole
metres) → sink (capacity = capacity). Each round augments along a cheapest source–sink path found
by Bellman–Ford (SPFA) in the residual graph; augmenting along cheapest paths until none is left
yields a maximum flow of minimum cost. Costs are integers, so there is no rounding drift and the
loop always ends (each round adds at least one unit of flow).

A need or resource without a position can still be paired when no maximum distance is set; the
pair then costs ``UNKNOWN_DISTANCE_M``, so any pair with a known position nearer than that wins.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

Position = tuple[float, float]  # (lon, lat) in degrees, WGS-84
UNKNOWN_DISTANCE_M = 50_000
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Demand:
    key: Hashable
    category: Hashable
    amount: int
    position: Position | None = None


@dataclass(frozen=True)
class Offer:
    key: Hashable
    category: Hashable
    capacity: int
    position: Position | None = None


@dataclass(frozen=True)
class Pairing:
    need: Hashable
    resource: Hashable
    amount: int
    distance_m: float | None  # None when a position is unknown


@dataclass(frozen=True)
class Assignment:
    pairings: list[Pairing]
    covered: int  # Σ amounts
    cost: int  # Σ amount × whole-metre distance (unknown distances count UNKNOWN_DISTANCE_M)


def haversine_m(a: Position, b: Position) -> float:
    """Great-circle distance in metres between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


class _Graph:
    """Adjacency lists of edges stored in parallel arrays; edge ``e ^ 1`` is the reverse of ``e``."""

    def __init__(self, nodes: int) -> None:
        self.adjacent: list[list[int]] = [[] for _ in range(nodes)]
        self.to: list[int] = []
        self.capacity: list[int] = []
        self.cost: list[int] = []

    def add(self, u: int, v: int, capacity: int, cost: int) -> int:
        self.adjacent[u].append(len(self.to))
        self.to.append(v)
        self.capacity.append(capacity)
        self.cost.append(cost)
        self.adjacent[v].append(len(self.to))
        self.to.append(u)
        self.capacity.append(0)
        self.cost.append(-cost)
        return len(self.to) - 2

    def min_cost_max_flow(self, source: int, sink: int) -> tuple[int, int]:
        flow = cost = 0
        nodes = len(self.adjacent)
        while True:
            dist: list[float] = [math.inf] * nodes
            via = [-1] * nodes
            queued = [False] * nodes
            dist[source] = 0
            queue = deque([source])
            queued[source] = True
            while queue:  # SPFA: Bellman–Ford with a work queue; residual costs may be negative
                u = queue.popleft()
                queued[u] = False
                for e in self.adjacent[u]:
                    if self.capacity[e] > 0 and dist[u] + self.cost[e] < dist[self.to[e]]:
                        v = self.to[e]
                        dist[v] = dist[u] + self.cost[e]
                        via[v] = e
                        if not queued[v]:
                            queued[v] = True
                            queue.append(v)
            if dist[sink] == math.inf:
                return flow, cost
            push = math.inf
            v = sink
            while v != source:
                e = via[v]
                push = min(push, self.capacity[e])
                v = self.to[e ^ 1]
            step = int(push)
            v = sink
            while v != source:
                e = via[v]
                self.capacity[e] -= step
                self.capacity[e ^ 1] += step
                v = self.to[e ^ 1]
            flow += step
            cost += step * int(dist[sink])


def pair_distance(
    need: Demand, offer: Offer, distance: Callable[[Position, Position], float] = haversine_m
) -> float | None:
    if need.position is None or offer.position is None:
        return None
    return distance(need.position, offer.position)


def pair_cost(distance_m: float | None) -> int:
    return UNKNOWN_DISTANCE_M if distance_m is None else round(distance_m)


def propose(
    needs: Sequence[Demand],
    offers: Sequence[Offer],
    *,
    max_distance_m: float | None = None,
    forbidden: Iterable[tuple[Hashable, Hashable]] = (),
    distance: Callable[[Position, Position], float] = haversine_m,
) -> Assignment:
    """The assignment covering the most demand at the least total distance (see the module doc)."""
    banned = set(forbidden)
    source, sink = 0, 1
    need_node = {i: 2 + i for i in range(len(needs))}
    offer_node = {j: 2 + len(needs) + j for j in range(len(offers))}
    graph = _Graph(2 + len(needs) + len(offers))
    for i, need in enumerate(needs):
        if need.amount > 0:
            graph.add(source, need_node[i], need.amount, 0)
    for j, offer in enumerate(offers):
        if offer.capacity > 0:
            graph.add(offer_node[j], sink, offer.capacity, 0)
    edges: list[tuple[int, int, int, float | None]] = []  # (edge, need index, offer index, distance)
    for i, need in enumerate(needs):
        if need.amount <= 0:
            continue
        for j, offer in enumerate(offers):
            if offer.capacity <= 0 or offer.category != need.category or (need.key, offer.key) in banned:
                continue
            d = pair_distance(need, offer, distance)
            if max_distance_m is not None and (d is None or d > max_distance_m):
                continue
            cap = min(need.amount, offer.capacity)
            edges.append((graph.add(need_node[i], offer_node[j], cap, pair_cost(d)), i, j, d))
    covered, cost = graph.min_cost_max_flow(source, sink)
    pairings = []
    for e, i, j, d in edges:
        amount = graph.capacity[e ^ 1]  # the flow on the edge is what its reverse can send back
        if amount > 0:
            pairings.append(Pairing(needs[i].key, offers[j].key, amount, d))
    return Assignment(pairings=pairings, covered=covered, cost=cost)


def score(distance_m: float | None) -> float:
    """A pairing's score for ordering proposals: 1 next door, falling with distance (0 when unknown)."""
    if distance_m is None:
        return 0.0
    return round(1.0 / (1.0 + distance_m / 1000.0), 4)
