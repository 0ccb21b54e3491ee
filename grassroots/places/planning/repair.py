"""Exact-bound repair: every unit ends within [floor, ceiling] and connected.

A unit outside the bounds (or in pieces) is merged with one or more neighbouring units; the group
is then re-cut along a random spanning tree into pieces that are each within bounds. Every piece is
a subtree, so it is connected by construction. The tree is drawn so that it keeps the edges that
are dear to cut (open ground inside a compound) and crosses roads and walls as rarely as it can;
cuts are then chosen on the cheapest tree edges, so new boundaries fall on roads and walls.
If a tree admits no valid cut sequence, another tree is drawn, then a larger group is tried."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from grassroots.places.planning.explain import unit_range
from grassroots.places.planning.partition import Graph, components


@dataclass
class State:
    """A partition of (some of) the coarse nodes into units, with members and weights kept current."""

    graph: Graph
    assign: np.ndarray  # unit label per node; -1 for nodes outside this problem
    members: dict[int, set[int]] = field(default_factory=dict)
    weight: dict[int, int] = field(default_factory=dict)
    next_label: int = 0
    zone: np.ndarray | None = None  # parent (and component) of each node: units never cross zones

    @classmethod
    def build(cls, graph: Graph, assign: np.ndarray, zone: np.ndarray | None = None) -> State:
        state = cls(graph, assign.copy(), zone=zone)
        for v in np.flatnonzero(assign >= 0):
            u = int(assign[v])
            state.members.setdefault(u, set()).add(int(v))
            state.weight[u] = state.weight.get(u, 0) + int(graph.w[v])
        state.next_label = (max(state.members) + 1) if state.members else 0
        return state

    def new_label(self) -> int:
        self.next_label += 1
        return self.next_label - 1

    def unit_neighbours(self, u: int) -> dict[int, float]:
        """Neighbouring units and the cut cost shared with each."""
        out: dict[int, float] = {}
        g = self.graph
        zone = self.zone
        for v in self.members[u]:
            lo, hi = g.indptr[v], g.indptr[v + 1]
            for x, c in zip(g.indices[lo:hi].tolist(), g.cost[lo:hi].tolist(), strict=True):
                t = int(self.assign[x])
                if t != u and t >= 0 and (zone is None or zone[x] == zone[v]):
                    out[t] = out.get(t, 0.0) + c
        return out

    def connected(self, nodes: set[int]) -> bool:
        return connected_set(self.graph, nodes)

    def replace(self, labels: list[int], pieces: list[np.ndarray]) -> list[int]:
        """Replace the units ``labels`` by ``pieces``; a piece keeps the old label it overlaps most."""
        overlap: list[tuple[int, int, int]] = []
        for p, piece in enumerate(pieces):
            counts: dict[int, int] = {}
            for v in piece:
                t = int(self.assign[v])
                counts[t] = counts.get(t, 0) + int(self.graph.w[v])
            overlap.extend((h, p, t) for t, h in counts.items())
        overlap.sort(reverse=True)
        label_of: dict[int, int] = {}
        used: set[int] = set()
        for _, p, t in overlap:
            if p not in label_of and t not in used:
                label_of[p] = t
                used.add(t)
        for u in labels:
            self.members.pop(u, None)
            self.weight.pop(u, None)
        out: list[int] = []
        for p, piece in enumerate(pieces):
            label = label_of.get(p)
            if label is None:
                label = self.new_label()
            self.assign[piece] = label
            self.members[label] = {int(v) for v in piece}
            self.weight[label] = int(self.graph.w[piece].sum())
            out.append(label)
        return out


def connected_set(graph: Graph, nodes: set[int]) -> bool:
    if len(nodes) <= 1:
        return True
    start = next(iter(nodes))
    seen = {start}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for x in graph.indices[graph.indptr[v] : graph.indptr[v + 1]]:
            x = int(x)
            if x in nodes and x not in seen:
                seen.add(x)
                queue.append(x)
    return len(seen) == len(nodes)


def still_connected(graph: Graph, members: set[int], v: int) -> bool:
    """Whether ``members`` minus ``v`` stays connected (``members`` is connected): a search from one
    neighbour of v inside the unit that stops as soon as it has met all the others."""
    inside = [int(x) for x in graph.neighbours(v) if int(x) in members and int(x) != v]
    if len(inside) <= 1:
        return len(inside) == 1 or len(members) == 1
    wanted = set(inside[1:])
    seen = {inside[0], v}
    queue = deque([inside[0]])
    while queue:
        y = queue.popleft()
        for x in graph.indices[graph.indptr[y] : graph.indptr[y + 1]].tolist():
            if x in members and x not in seen:
                seen.add(x)
                wanted.discard(x)
                if not wanted:
                    return True
                queue.append(x)
    return not wanted


def split_group(
    graph: Graph,
    nodes: np.ndarray,
    floor: int,
    ceiling: int,
    target: float,
    rng: np.random.Generator,
    *,
    tries: int = 8,
) -> list[np.ndarray] | None:
    """Cut a connected set of nodes into connected pieces within [floor, ceiling], or None."""
    w = graph.w[nodes]
    total = int(w.sum())
    lo, hi = unit_range(total, floor, ceiling)
    if lo > hi or int(w.max()) > ceiling:
        return None
    if len(nodes) == 1 or hi == 1:
        return [nodes] if floor <= total <= ceiling else None
    rows, cols, cost = graph.subgraph(nodes)
    n = len(nodes)
    if len(rows) < n - 1:
        return None
    scale = float(np.median(cost)) or 1.0
    cut_cost = cost / scale
    weights = [int(x) for x in w]
    pair = w[rows] + w[cols]
    pair_penalty = np.where(pair > ceiling, 1e4, np.exp(2.0 * pair / ceiling))
    for attempt in range(tries):
        # early trees follow the barriers closely; later ones are ever more random, to explore
        spread = 1.5 + 6.0 * attempt / max(1, tries - 1)
        noise = np.exp(rng.random(len(rows)) * spread)
        # dear-to-cut edges are light, so the tree keeps them; an edge whose two ends together
        # exceed the ceiling is cut in any plan, so the tree avoids it where it can
        tree_w = noise / (cut_cost + 0.05) * pair_penalty
        tree = _kruskal(n, rows, cols, tree_w)
        if tree is None:
            return None  # not connected
        adjacency: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        for e in tree:
            a, b, c = int(rows[e]), int(cols[e]), float(cut_cost[e])
            adjacency[a].append((b, c))
            adjacency[b].append((a, c))
        pieces = cut_tree(adjacency, weights, floor, ceiling, target, rng, root=int(rng.integers(n)))
        if pieces is not None:
            return [nodes[np.asarray(p, dtype=np.int64)] for p in pieces]
    return None


def _kruskal(n: int, rows: np.ndarray, cols: np.ndarray, weight: np.ndarray) -> list[int] | None:
    """Edge indices of a minimum spanning tree, or None when the graph is not connected."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    chosen: list[int] = []
    r, c = rows.tolist(), cols.tolist()
    for e in np.argsort(weight).tolist():
        a, b = find(r[e]), find(c[e])
        if a != b:
            parent[a] = b
            chosen.append(e)
            if len(chosen) == n - 1:
                return chosen
    return chosen if len(chosen) == n - 1 else None


def _bits(x: int) -> list[int]:
    out = []
    while x:
        low = x & -x
        out.append(low.bit_length() - 1)
        x ^= low
    return out


def _sumset(a: int, b: int, mask: int) -> int:
    """{x + y : x in a, y in b} as a bitset, cut to ``mask``."""
    if a.bit_count() > b.bit_count():
        a, b = b, a
    out = 0
    for i in _bits(a):
        out |= b << i
    return out & mask


def cut_tree(
    adjacency: list[list[tuple[int, float]]],
    w: list[int],
    floor: int,
    ceiling: int,
    target: float,
    rng: np.random.Generator,
    *,
    root: int = 0,
) -> list[list[int]] | None:
    """Cut a node-weighted tree into subtrees each within [floor, ceiling], or None if this tree
    admits no such cut.

    Exact dynamic programme over the tree: for each subtree, the set (a bitset) of weights the
    piece still open at its root can have while every piece closed below is within bounds. Each
    child is either closed off (its open piece is within bounds: the edge to it is cut) or merged
    into its parent's open piece. The way back prefers cutting cheap edges (roads, walls) and
    closing pieces near the target."""
    n = len(adjacency)
    mask = (1 << (ceiling + 1)) - 1
    closable = mask ^ ((1 << floor) - 1)
    order, parent, pcost = _bfs(adjacency, np.ones(n, dtype=bool), root)
    children: list[list[int]] = [[] for _ in range(n)]
    for v in order[1:]:
        children[parent[v]].append(v)
    final = [0] * n
    steps: list[list[int]] = [[] for _ in range(n)]
    for v in reversed(order):
        s = 1 << w[v]
        if w[v] > ceiling:
            return None
        hist = [s]
        for c in children[v]:
            cs = final[c]
            new = s if cs & closable else 0
            new |= _sumset(s, cs, mask)
            if not new:
                return None
            s = new
            hist.append(s)
        final[v] = s
        steps[v] = hist
    top = final[root] & closable
    if not top:
        return None

    def near(bitset: int) -> int:
        values = _bits(bitset)
        best = min(abs(x - target) for x in values)
        return int(rng.choice([x for x in values if abs(x - target) <= best + 15]))

    pieces: list[list[int]] = []
    stack = [(root, near(top), 0)]
    pieces.append([])
    while stack:
        v, p, pid = stack.pop()
        pieces[pid].append(v)
        hist = steps[v]
        for i in range(len(children[v]) - 1, -1, -1):
            c = children[v][i]
            before, cs = hist[i], final[c]
            can_close = bool(cs & closable) and bool((before >> p) & 1)
            merges = [b for b in _bits(cs) if b <= p and (before >> (p - b)) & 1]
            close = can_close and (not merges or pcost[c] < 1.0 or rng.random() < 0.2)
            if close:
                pieces.append([])
                stack.append((c, near(cs & closable), len(pieces) - 1))
            else:
                b = int(rng.choice(merges))
                stack.append((c, b, pid))
                p -= b
        assert p == w[v]
    return pieces


def _bfs(
    adjacency: list[list[tuple[int, float]]], alive: np.ndarray, root: int
) -> tuple[list[int], dict[int, int], dict[int, float]]:
    order = [root]
    parent = {root: -1}
    pcost = {root: 0.0}
    i = 0
    while i < len(order):
        v = order[i]
        i += 1
        for x, c in adjacency[v]:
            if alive[x] and x not in parent:
                parent[x] = v
                pcost[x] = c
                order.append(x)
    return order, parent, pcost


def _in_pieces(state: State) -> list[int]:
    """Units whose nodes are not connected (one connected-components call over intra-unit edges)."""
    g = state.graph
    rows = np.repeat(np.arange(g.n), np.diff(g.indptr))
    a = state.assign
    keep = (a[rows] == a[g.indices]) & (a[rows] >= 0)
    m = coo_matrix((np.ones(int(keep.sum())), (rows[keep], g.indices[keep])), shape=(g.n, g.n))
    _, comp = connected_components(m, directed=False)
    inside = a >= 0
    pairs = np.unique(np.stack([a[inside], comp[inside]], axis=1), axis=0)
    labels, counts = np.unique(pairs[:, 0], return_counts=True)
    return [int(u) for u in labels[counts > 1]]


def repair(
    state: State,
    floor: int,
    ceiling: int,
    target: float,
    rng: np.random.Generator,
    *,
    max_group_nodes: int = 180,
    check_pieces: bool = True,
    search: bool = False,
) -> list[int]:
    """Bring every unit of ``state`` within bounds and connected; the labels it could not fix.
    ``check_pieces=False`` skips the connectivity pass (when every unit is known to be connected)."""
    # a unit in pieces becomes one unit per piece first
    for u in _in_pieces(state) if check_pieces else ():
        parts = components(state.graph, np.fromiter(state.members[u], dtype=np.int64))
        state.replace([u], parts)
    queue = sorted(
        (u for u, h in state.weight.items() if not floor <= h <= ceiling),
        key=lambda u: -abs(state.weight[u] - target),
    )
    failed: list[int] = []
    while queue:
        u = queue.pop()
        if u not in state.members or floor <= state.weight[u] <= ceiling:
            continue
        if not _fix(state, u, floor, ceiling, target, rng, max_group_nodes, search):
            failed.append(u)
    return [u for u in failed if u in state.members and not floor <= state.weight[u] <= ceiling]


RING_TRIES = 30  # random trees per ring group (12 left 4 neighbourhoods of a 100,000-building city stuck, 60 left 2)


def _fix(
    state: State,
    u: int,
    floor: int,
    ceiling: int,
    target: float,
    rng: np.random.Generator,
    max_nodes: int,
    search: bool = False,
) -> bool:
    """Merge ``u`` with neighbouring units and re-cut: first with one neighbour at a time, then
    with ever wider rings of units (breadth first over the unit graph) up to ``max_nodes`` nodes."""
    nbrs = state.unit_neighbours(u)

    def bad(t: int) -> bool:
        return not floor <= state.weight[t] <= ceiling

    ordered = sorted(nbrs, key=lambda t: (not bad(t), -nbrs[t]))
    groups: list[tuple[list[int], int]] = []
    if state.weight[u] > ceiling:
        groups.append(([u], 6))
    groups.extend(([u, t], 6) for t in ordered[:6])
    # rings: breadth first from u, cut at growing node counts
    ring = [u]
    seen = {u}
    frontier = [u]
    size = len(state.members[u])
    limits = [40, 90, max_nodes]
    while frontier and limits:
        nxt: list[int] = []
        for t in frontier:
            for x in sorted(nbrs if t == u else state.unit_neighbours(t), key=lambda x: (not bad(x), x)):
                if x not in seen:
                    seen.add(x)
                    nxt.append(x)
        for x in nxt:
            if not limits or size + len(state.members[x]) > limits[-1]:
                limits = []
                break
            ring.append(x)
            size += len(state.members[x])
            while limits and size >= limits[0]:
                groups.append((list(ring), RING_TRIES))
                limits.pop(0)
        frontier = nxt
    if len(ring) > 2:
        groups.append((list(ring), RING_TRIES))
    seen_groups: set[frozenset[int]] = set()
    for labels, tries in groups:
        key = frozenset(labels)
        if key in seen_groups:
            continue
        seen_groups.add(key)
        nodes = np.fromiter((v for t in labels for v in state.members[t]), dtype=np.int64)
        pieces = split_group(state.graph, nodes, floor, ceiling, target, rng, tries=tries)
        if pieces is not None:
            state.replace(labels, pieces)
            return True
    if search:  # no tree had a cut: search the same groups by backtracking (within a budget), smallest first
        for labels, _ in sorted(groups, key=lambda g: len(g[0])):
            if len(labels) < 2:
                continue
            nodes = np.fromiter((v for t in labels for v in state.members[t]), dtype=np.int64)
            pieces = search_group(state.graph, nodes, floor, ceiling)
            if pieces is not None:
                state.replace(labels, pieces)
                return True
    return False


SEARCH_BUDGET = 5_000  # candidate pieces per group
SEARCH_WIDTH = 40  # pieces tried per node placed (small buildings make the count explode)


def search_group(graph: Graph, nodes: np.ndarray, floor: int, ceiling: int) -> list[np.ndarray] | None:
    """:func:`search_cut` on a set of coarse nodes."""
    rows, cols, _ = graph.subgraph(nodes)
    adjacency: list[list[int]] = [[] for _ in range(len(nodes))]
    for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
        adjacency[a].append(b)
        adjacency[b].append(a)
    found = search_cut(
        adjacency, [int(x) for x in graph.w[nodes]], floor, ceiling, budget=SEARCH_BUDGET, width=SEARCH_WIDTH
    )
    return None if found is None else [nodes[np.asarray(p, dtype=np.int64)] for p in found]


class _OutOfBudget(Exception):
    pass


def search_cut(
    adjacency: list[list[int]],
    w: list[int],
    floor: int,
    ceiling: int,
    *,
    budget: int = 20_000,
    width: int | None = None,
) -> list[list[int]] | None:
    """Cut a connected graph into connected pieces within [floor, ceiling] by backtracking, or None
    when none was found within ``budget`` candidate pieces.

    Where random spanning trees fail it is mostly because a few large compounds (200-300 households)
    each need one particular partner; a tree seldom holds all the right pairings at once. This search
    takes the heaviest node not yet placed (the one with fewest partners), enumerates each connected
    piece around it within bounds (each exactly once: grow by the frontier, excluding what an earlier
    branch tried), and keeps a piece only if every connected part left over can still be cut by size
    (some k with k·floor <= H <= k·ceiling)."""
    n = len(w)
    alive = [True] * n
    spent = 0

    def parts_ok(start_nodes: list[int]) -> bool:
        seen: set[int] = set()
        for s in start_nodes:
            if not alive[s] or s in seen:
                continue
            seen.add(s)
            stack, total = [s], 0
            while stack:
                v = stack.pop()
                total += w[v]
                for x in adjacency[v]:
                    if alive[x] and x not in seen:
                        seen.add(x)
                        stack.append(x)
            if -(-total // ceiling) > total // floor:
                return False
        return True

    def pieces(v: int):  # connected sets containing v with floor <= weight <= ceiling
        chosen = [v]
        banned = {v}

        def grow(total: int, frontier: list[int]):
            if total >= floor:
                yield chosen
            for i, u in enumerate(frontier):  # frontier nodes stay banned: each set is met once
                if total + w[u] > ceiling:
                    continue
                chosen.append(u)
                fresh = [x for x in adjacency[u] if alive[x] and x not in banned]
                banned.update(fresh)
                yield from grow(total + w[u], frontier[i + 1 :] + sorted(fresh, key=lambda x: -w[x]))
                banned.difference_update(fresh)
                chosen.pop()

        first = [x for x in adjacency[v] if alive[x]]
        banned.update(first)
        yield from grow(w[v], sorted(first, key=lambda x: -w[x]))

    def solve() -> list[list[int]] | None:
        nonlocal spent
        left = [v for v in range(n) if alive[v]]
        if not left:
            return []
        v = max(left, key=lambda x: w[x])
        for tried, piece in enumerate(pieces(v)):
            if width is not None and tried >= width:
                break
            spent += 1
            if spent > budget:
                raise _OutOfBudget
            taken = list(piece)
            for x in taken:
                alive[x] = False
            edge = [y for x in taken for y in adjacency[x] if alive[y]]
            rest = solve() if parts_ok(edge) else None
            for x in taken:
                alive[x] = True
            if rest is not None:
                return [taken, *rest]
        return None

    if max(w) > ceiling:
        return None
    try:
        return solve()
    except _OutOfBudget:
        return None
