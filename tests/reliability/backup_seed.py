"""The restore drill's child: ``python -m tests.reliability.backup_seed seed|digest``.

``seed`` builds a small city through the real services: the place tree and personas, residents
with sealed ID numbers and phones, cases at several steps of the loop with photos on disk.
``digest`` prints, per table, its row count and the SHA-256 of its content dumped in order, the
SHA-256 of every file under MEDIA_ROOT, and whether a sealed value still opens (the keys file
travels separately from the archive), as JSON.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402


def seed() -> None:
    from PIL import Image

    from grassroots.accounts.models import Role as AccountRole
    from grassroots.audit.services import SYSTEM
    from grassroots.cases import selectors, services
    from grassroots.cases.services.photos import photo_upload
    from grassroots.cases.workflow import Action, Command
    from grassroots.core.scope import Scope
    from tests.factories import add_personas, add_resident, build_tree, centre

    tree = build_tree()
    add_personas(tree)
    for seq in range(1, 21):
        add_resident(tree, seq=seq, name=f"居民{seq}")
    category = services.category_create(actor=SYSTEM, code="road.pothole", name="道路坑洼", kind="event")
    services.assignment_save(
        actor=SYSTEM, scope=Scope.everything(), category=category, area=tree.district, departments=[tree.department]
    )
    resident, worker = tree.users[AccountRole.RESIDENT], tree.users[AccountRole.COMMUNITY_WORKER]
    lon, lat = centre(0, 0)
    for i in range(12):
        photos = []
        for k in range(1 + i % 3):
            image, out = Image.new("RGB", (40 + i, 30 + k), (10 * i, 20 * k, 200)), io.BytesIO()
            image.save(out, "JPEG")
            photos.append(photo_upload(actor=resident, upload=io.BytesIO(out.getvalue()), name="p.jpg").pk)
        case = services.case_submit(
            actor=resident,
            scope=Scope.everything(),
            channel="resident_h5",
            category=category,
            description=f"路面有坑 {i}",
            lon=lon,
            lat=lat,
            photos=photos,
            contact_phone=f"1391234{i:04d}",
        ).case
        if i % 2:
            role = selectors.acting_roles(worker)[0]
            services.case_act(
                actor=worker,
                role=role,
                case_id=case.pk,
                expected_version=case.version,
                command=Command(action=Action.whistle, role=role),
            )
    print("seeded")


def _value(value: Any) -> Any:
    if isinstance(value, memoryview | bytes | bytearray):
        return bytes(value).hex()
    return repr(value)


def digest() -> None:
    from grassroots.core import crypto
    from grassroots.registry.models import Person
    from grassroots.registry.sealing import ID_CONTEXT

    tables: dict[str, list[Any]] = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            quoted = connection.ops.quote_name(table)
            columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            order = ", ".join(str(i + 1) for i in range(len(columns)))
            cursor.execute(f"SELECT * FROM {quoted} ORDER BY {order}")  # noqa: S608
            sha, rows = hashlib.sha256(), 0
            for row in cursor.fetchall():
                sha.update(json.dumps([_value(v) for v in row], ensure_ascii=False).encode())
                rows += 1
            tables[table] = [rows, sha.hexdigest()]
    media: dict[str, str] = {}
    root = Path(settings.MEDIA_ROOT)
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            media[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    person = Person.objects.order_by("pk").first()
    opened = bool(person and crypto.decrypt(bytes(person.id_number_cipher), context=ID_CONTEXT))
    print(json.dumps({"tables": tables, "media": media, "sealed_value_opens": opened}))


if __name__ == "__main__":
    seed() if sys.argv[1] == "seed" else digest()
