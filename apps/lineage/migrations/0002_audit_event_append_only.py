"""On PostgreSQL, make the audit log append-only in the database too.

A trigger refuses UPDATE and DELETE on the table, so no code path, raw SQL included, can rewrite
history. SQLite relies on the model and queryset guards (its row triggers would also fire on the
test runner's flush).
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION lineage_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: %% is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER lineage_auditevent_append_only
    BEFORE UPDATE OR DELETE ON lineage_auditevent
    FOR EACH ROW EXECUTE FUNCTION lineage_auditevent_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS lineage_auditevent_append_only ON lineage_auditevent;
DROP FUNCTION IF EXISTS lineage_auditevent_refuse_change();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("lineage", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
