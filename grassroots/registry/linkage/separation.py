"""人户分离: compare where a person is registered (户籍) with where they actually live.

Categories (the registry's ``Separation`` values):

- ``""``: registered and living at the same address (人户一致), or nothing to compare;
- ``lives_here``: lives in our area, registered elsewhere (人在户不在 from the registry's side:
  户籍在外), including a different dwelling inside our area;
- ``registered_here``: registered in our area, lives outside it (户在人不在);
- ``outside``: neither address is in our area (not ours to count).

"In our area" is a predicate over parsed addresses supplied by the caller (the Django side
knows its place tree); ``in_area`` builds a simple one from district or compound names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

from grassroots.registry.linkage.address import ParsedAddress, address_keys, parse_address


class SeparationKind(StrEnum):
    NONE = ""
    LIVES_HERE = "lives_here"
    REGISTERED_HERE = "registered_here"
    OUTSIDE = "outside"


def in_area(*, districts: Iterable[str] = (), compounds: Iterable[str] = ()) -> Callable[[ParsedAddress], bool]:
    """A predicate: the address names one of these districts or compounds."""
    ds, cs = frozenset(districts), tuple(compounds)

    def inside(p: ParsedAddress) -> bool:
        return (bool(p.district) and p.district in ds) or any(c and c in p.text for c in cs)

    return inside


def same_address(a: str | None, b: str | None) -> bool:
    """Same dwelling (when both give one), else the same normalised text."""
    ka, kb = address_keys(a), address_keys(b)
    if ka.dwelling and kb.dwelling:
        return ka.dwelling == kb.dwelling
    pa, pb = parse_address(a), parse_address(b)
    return bool(pa.text) and pa.text == pb.text


def separation(
    registered: str | None, current: str | None, *, is_local: Callable[[ParsedAddress], bool]
) -> SeparationKind:
    if not registered or not current or same_address(registered, current):
        return SeparationKind.NONE
    reg_here, live_here = is_local(parse_address(registered)), is_local(parse_address(current))
    if live_here:
        return SeparationKind.LIVES_HERE
    if reg_here:
        return SeparationKind.REGISTERED_HERE
    return SeparationKind.OUTSIDE
