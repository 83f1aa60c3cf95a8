"""On PostgreSQL, a trigram index for the bare words a search matches in versions'
descriptions (the other columns it reads by substring are indexed in 0001): without it each
word query reads every version. SQLite scans."""

from django.db import migrations

INDEX = "search_version_description_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON artifacts_artifactversion "
            "USING gin ((UPPER(description::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("search", "0001_trigram_indexes")]

    operations = [migrations.RunPython(create, drop)]
