"""How a sensitive value is stored: AES-GCM ciphertext, keyed hash for exact search, masked form.

Services, selectors, the import pipeline and the demo generator all seal the same way, so the
contexts (which bind a ciphertext to its column) live here, below all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from grassroots.core import crypto
from grassroots.core.masking import mask_id_number, mask_phone

ID_CONTEXT = "person.id_number"
PHONE_CONTEXT = "person.phone"


@dataclass(frozen=True)
class SealedValue:
    cipher: bytes
    hash: str
    masked: str


def seal_id_number(number: str) -> SealedValue:
    return SealedValue(
        crypto.encrypt(number, context=ID_CONTEXT),
        crypto.blind_index(number, context=ID_CONTEXT),
        mask_id_number(number),
    )


def seal_phone(number: str) -> SealedValue:
    return SealedValue(
        crypto.encrypt(number, context=PHONE_CONTEXT),
        crypto.blind_index(number, context=PHONE_CONTEXT),
        mask_phone(number),
    )


def id_number_hash(number: str) -> str:
    return crypto.blind_index(number, context=ID_CONTEXT)
