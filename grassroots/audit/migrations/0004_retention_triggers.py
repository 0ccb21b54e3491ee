"""Retention: the log may lose a prefix, and only one that a checkpoint has archived.

DELETE of an audit row is allowed only at or below the latest checkpoint's ``last_seq``;
UPDATE stays refused (and TRUNCATE on PostgreSQL). Checkpoints are append-only, and one is
accepted only if it continues the previous one and names the hash of a live row, so a
checkpoint cannot be invented to open the log to deletion past a point the chain does not know.
"""

from django.db import migrations

_CHECKPOINT_MAX = "COALESCE((SELECT MAX(last_seq) FROM audit_auditcheckpoint), 0)"
_CHECKPOINT_BAD = f"""NEW.first_seq <> {_CHECKPOINT_MAX} + 1
       OR NEW.last_seq < NEW.first_seq
       OR NOT EXISTS (SELECT 1 FROM audit_auditentry WHERE seq = NEW.last_seq AND hash = NEW.last_hash)"""  # noqa: S608 (constants)

SQLITE = [
    "DROP TRIGGER audit_entry_no_delete",
    f"""CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_auditentry
       WHEN OLD.seq > {_CHECKPOINT_MAX}
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused (not archived)'); END""",
    f"""CREATE TRIGGER audit_checkpoint_check BEFORE INSERT ON audit_auditcheckpoint
       WHEN {_CHECKPOINT_BAD}
       BEGIN SELECT RAISE(ABORT, 'audit checkpoint does not continue the chain'); END""",
    """CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_auditcheckpoint
       BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_auditcheckpoint
       BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: DELETE refused'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER audit_checkpoint_no_delete",
    "DROP TRIGGER audit_checkpoint_no_update",
    "DROP TRIGGER audit_checkpoint_check",
    "DROP TRIGGER audit_entry_no_delete",
    """CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_auditentry
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END""",
]

POSTGRES = [
    f"""CREATE FUNCTION audit_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'DELETE' AND OLD.seq <= {_CHECKPOINT_MAX} THEN RETURN OLD; END IF;
         RAISE EXCEPTION 'audit log is append-only: % refused', TG_OP;
       END $$""",
    "DROP TRIGGER audit_entry_no_change ON audit_auditentry",
    """CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_auditentry
       FOR EACH ROW EXECUTE FUNCTION audit_entry_guard()""",
    f"""CREATE FUNCTION audit_checkpoint_check() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF {_CHECKPOINT_BAD} THEN
           RAISE EXCEPTION 'audit checkpoint does not continue the chain';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER audit_checkpoint_check BEFORE INSERT ON audit_auditcheckpoint
       FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_check()""",
    """CREATE FUNCTION audit_checkpoint_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit checkpoints are append-only: % refused', TG_OP; END $$""",
    """CREATE TRIGGER audit_checkpoint_no_change BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
       FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_refuse()""",
    """CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_auditcheckpoint
       FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoint_refuse()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER audit_checkpoint_no_truncate ON audit_auditcheckpoint",
    "DROP TRIGGER audit_checkpoint_no_change ON audit_auditcheckpoint",
    "DROP FUNCTION audit_checkpoint_refuse()",
    "DROP TRIGGER audit_checkpoint_check ON audit_auditcheckpoint",
    "DROP FUNCTION audit_checkpoint_check()",
    "DROP TRIGGER audit_entry_no_change ON audit_auditentry",
    """CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_auditentry
       FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse()""",
    "DROP FUNCTION audit_entry_guard()",
]


def _run(statements_by_vendor):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)  # None: "%" in PL/pgSQL is not a placeholder

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_audit_checkpoint")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
