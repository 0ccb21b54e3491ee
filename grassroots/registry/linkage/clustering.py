"""Pairs → clusters, with constraints people and ID numbers impose.

Plain connected components chain errors: twin A ~ twin B through a shared phone, or two
people through a record with no ID. Here pairs are joined strongest first and a join is
refused when it would put two different valid ID numbers in one cluster, or two records a
person has marked "not the same". Known matches are joined first whatever their score.
Existing clusters (persons already in the database) are kept whole: incremental linking
adds records to them, and merges two of them only when told to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class KnownPair:
    """A reviewer's decision on two records: the same person or not. Reused on every run."""

    left: str
    right: str
    is_match: bool


@dataclass
class Clustering:
    clusters: dict[str, str]  # record id → cluster id
    refused: list[tuple[str, str, float, str]] = field(default_factory=list)  # pair, score, why
    held_merges: list[tuple[str, str, float]] = field(default_factory=list)  # would merge two existing clusters


class _Forest:
    def __init__(self, ids: Iterable[str], valid_ids: Mapping[str, str]) -> None:
        self.parent: dict[str, str] = {r: r for r in ids}
        self.numbers: dict[str, set[str]] = {r: ({valid_ids[r]} if r in valid_ids else set()) for r in self.parent}
        self.forbid: dict[str, set[str]] = {}
        self.existing: dict[str, str] = {}  # root → existing cluster id it carries

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def why_not(self, a: str, b: str) -> str:
        na, nb = self.numbers[a], self.numbers[b]
        if na and nb and not (na & nb):
            return "different_valid_id"
        small, other = (a, b) if len(self.forbid.get(a, ())) <= len(self.forbid.get(b, ())) else (b, a)
        if any(self.find(x) == other for x in self.forbid.get(small, ())):
            return "reviewed_non_match"
        return ""

    def union(self, a: str, b: str) -> str:
        if len(self.numbers[a]) < len(self.numbers[b]):
            a, b = b, a
        self.parent[b] = a
        self.numbers[a] |= self.numbers.pop(b)
        if b in self.forbid:
            self.forbid.setdefault(a, set()).update(self.forbid.pop(b))
        if b in self.existing:
            self.existing.setdefault(a, self.existing.pop(b))
        return a


def cluster_pairs(
    record_ids: Iterable[object],
    pairs: Iterable[tuple[object, object, float]],
    *,
    threshold: float,
    valid_ids: Mapping[str, str] | None = None,
    known_pairs: Iterable[KnownPair] = (),
    existing: Mapping[str, str] | None = None,
    merge_existing: bool = False,
) -> Clustering:
    """Cluster records from scored pairs (probability in [0, 1]).

    ``valid_ids``: record id → its valid 18-digit ID number (records without one are absent).
    ``existing``: record id → current cluster id; these clusters are kept together and keep
    their id. A pair that would merge two existing clusters is held (returned in
    ``held_merges`` for review) unless ``merge_existing``. New clusters are named by their
    smallest record id. Deterministic: ties are broken by record ids.
    """
    ids = [str(r) for r in record_ids]
    forest = _Forest(ids, {str(k): v for k, v in (valid_ids or {}).items()})
    existing = {str(k): str(v) for k, v in (existing or {}).items()}
    result = Clustering(clusters={})

    # Existing clusters first: they are persons already, whatever the numbers say.
    first_of: dict[str, str] = {}  # existing cluster id → its first record
    for rid in ids:
        cid = existing.get(rid)
        if cid is None:
            continue
        if cid not in first_of:
            first_of[cid] = rid
            continue
        ra, rb = forest.find(first_of[cid]), forest.find(rid)
        if ra != rb:
            forest.union(ra, rb)
    for cid, rid in first_of.items():
        forest.existing[forest.find(rid)] = cid

    known = list(known_pairs)
    for k in known:
        a, b = str(k.left), str(k.right)
        if a not in forest.parent or b not in forest.parent:
            continue
        if k.is_match:
            ra, rb = forest.find(a), forest.find(b)
            if ra != rb:
                forest.union(ra, rb)
        else:
            forest.forbid.setdefault(forest.find(a), set()).add(b)
            forest.forbid.setdefault(forest.find(b), set()).add(a)
    decided = {frozenset((str(k.left), str(k.right))) for k in known}

    strong = sorted(
        ((float(p), str(a), str(b)) for a, b, p in pairs if float(p) >= threshold),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    for p, a, b in strong:
        if a not in forest.parent or b not in forest.parent or frozenset((a, b)) in decided:
            continue
        ra, rb = forest.find(a), forest.find(b)
        if ra == rb:
            continue
        reason = forest.why_not(ra, rb)
        if reason:
            result.refused.append((a, b, p, reason))
            continue
        if ra in forest.existing and rb in forest.existing and not merge_existing:
            result.held_merges.append((a, b, p))
            continue
        forest.union(ra, rb)

    members: dict[str, list[str]] = {}
    for rid in ids:
        members.setdefault(forest.find(rid), []).append(rid)
    taken = set(existing.values())
    for root, rids in members.items():
        cid = forest.existing.get(root) or min(rids)
        if root not in forest.existing and cid in taken:
            cid = f"new:{cid}"
        for rid in rids:
            result.clusters[rid] = cid
    return result
