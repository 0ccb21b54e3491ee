"""Local search for the soft goals, keeping every hard constraint.

A boundary node (a whole compound, building or entrance) moves to a neighbouring unit when both
units stay within bounds, the unit it leaves stays connected, and the move lowers

    cut cost (boundaries on roads and walls, short boundaries: compact shapes)
    + balance (distance of both units from the target)
    + households moved away from their existing unit (only when re-planning).

Compounds under the ceiling are single nodes, so no move can split one."""

from __future__ import annotations

import time

import numpy as np

from grassroots.places.planning.repair import State, still_connected


def improve(
    state: State,
    floor: int,
    ceiling: int,
    target: float,
    rng: np.random.Generator,
    *,
    home: np.ndarray | None = None,
    movable: set[int] | None = None,
    balance_weight: float = 0.5,
    moved_weight: float = 1.0,
    passes: int = 2,
    deadline: float | None = None,
) -> int:
    """Apply improving moves; returns how many were made. ``home``: the existing unit label of each
    node (re-planning); ``movable``: only these units may give or take nodes."""
    g = state.graph
    assign = state.assign
    zone = state.zone
    scale = float(np.median(g.cost)) if len(g.cost) else 1.0
    spread = max(1.0, float(ceiling - floor))
    b_w = balance_weight * scale / spread
    m_w = moved_weight * scale
    moves = 0
    rows = np.repeat(np.arange(g.n), np.diff(g.indptr))
    for _ in range(passes):
        a_of, b_of = assign[rows], assign[g.indices]
        crossing = (a_of != b_of) & (a_of >= 0) & (b_of >= 0)
        if zone is not None:
            crossing &= zone[rows] == zone[g.indices]
        border = np.unique(rows[crossing])
        rng.shuffle(border)
        made = 0
        for v in border.tolist():
            if deadline is not None and time.perf_counter() > deadline:
                return moves + made
            a = int(assign[v])
            if movable is not None and a not in movable:
                continue
            x = int(g.w[v])
            wa = state.weight[a]
            if wa - x < floor:
                continue
            lo, hi = g.indptr[v], g.indptr[v + 1]
            gain: dict[int, float] = {}
            to_own = 0.0
            zv = -1 if zone is None else int(zone[v])
            for y, c in zip(g.indices[lo:hi].tolist(), g.cost[lo:hi].tolist(), strict=True):
                t = int(assign[y])
                if t == a:
                    to_own += c
                elif t >= 0 and (zone is None or zone[y] == zv):
                    gain[t] = gain.get(t, 0.0) + c
            best, best_delta = -1, -1e-9
            for t, c in gain.items():
                if movable is not None and t not in movable:
                    continue
                wt = state.weight[t]
                if wt + x > ceiling:
                    continue
                delta = to_own - c
                delta += b_w * (abs(wa - x - target) + abs(wt + x - target) - abs(wa - target) - abs(wt - target))
                if home is not None:
                    h = int(home[v])
                    delta += m_w * x * (int(h != t) - int(h != a))
                if delta < best_delta:
                    best, best_delta = t, delta
            if best < 0:
                continue
            if not still_connected(g, state.members[a], v):
                continue
            state.members[a].discard(v)
            state.members[best].add(v)
            state.weight[a] = wa - x
            state.weight[best] += x
            assign[v] = best
            made += 1
        moves += made
        if made == 0:
            break
    return moves
