"""On PostgreSQL, trigram indexes for what the search box matches by substring: names of
registries and collections, tags and aliases. Django writes `icontains` as
UPPER(col::text) LIKE UPPER(…), so the indexes are on that expression. SQLite scans."""

from django.db import migrations

# (index, table, column)
TRIGRAM_INDEXES = [
    ("search_registry_name_trgm", "registries_registry", "name"),
    ("search_collection_name_trgm", "registries_collection", "name"),
    ("search_collectiontag_name_trgm", "registries_collectiontag", "name"),
    ("search_alias_name_trgm", "registries_alias", "name"),
    ("search_linktag_name_trgm", "registries_linktag", "name"),
    ("search_versiontag_name_trgm", "artifacts_versiontag", "name"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for index, table, column in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {index} ON {table} "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, _, _ in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [
        ("registries", "0004_link_tag"),
        ("artifacts", "0004_blob_upload"),
    ]

    operations = [migrations.RunPython(create, drop)]
