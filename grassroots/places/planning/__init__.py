"""Grid and community planning to the standard sizes (issue 9): a pure engine, no Django.

    plan(atoms, edges, *, floor=300, ceiling=500, target=None, existing=None, ...) -> Plan
    plan_hierarchy(atoms, edges, levels=(COMMUNITY, GRID, MICRO)) -> [Plan, Plan, Plan]

Atoms are buildings (or entrances of a building over the ceiling) with planar coordinates in
metres, households and residents; edges are their Delaunay neighbours classed by the barrier
crossed (``build_edges`` makes them from positions and road lines). See docs/planning.md.
"""

from grassroots.places.planning.adjacency import EdgeArrays, build_edges
from grassroots.places.planning.atoms import (
    Atom,
    Barrier,
    BuildingInput,
    Edge,
    Road,
    atoms_from_buildings,
    project_lonlat,
)
from grassroots.places.planning.explain import NoPlanError, Reason
from grassroots.places.planning.planner import (
    COMMUNITY,
    DEFAULT_LEVELS,
    GRID,
    MICRO,
    Level,
    Plan,
    Unit,
    measure,
    plan,
    plan_hierarchy,
)

__all__ = [
    "COMMUNITY",
    "DEFAULT_LEVELS",
    "GRID",
    "MICRO",
    "Atom",
    "Barrier",
    "BuildingInput",
    "Edge",
    "EdgeArrays",
    "Level",
    "NoPlanError",
    "Plan",
    "Reason",
    "Road",
    "Unit",
    "atoms_from_buildings",
    "build_edges",
    "measure",
    "plan",
    "plan_hierarchy",
    "project_lonlat",
]
