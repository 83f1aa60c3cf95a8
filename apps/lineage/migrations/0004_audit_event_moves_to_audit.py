"""The audit log moves to apps.audit, which takes over its table (lineage_auditevent) as it is:
Django's state only, nothing in the database changes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("lineage", "0003_audit_times_and_migration"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
        ),
    ]
