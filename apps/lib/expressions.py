"""Query expressions the ORM lacks on every database this project runs on."""

from __future__ import annotations

from django.db.models import Aggregate, JSONField


class JSONList(Aggregate):
    """The aggregated values as one JSON list (order not guaranteed): json_group_array on
    SQLite, jsonb_agg on PostgreSQL. Lets a row carry its few related names in its own query."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_AGG", **extra_context)
