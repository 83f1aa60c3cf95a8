from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree():
    """A model change without its migration fails here, not in production."""
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)


@pytest.mark.django_db(transaction=True)
def test_links_made_before_they_carried_a_registry_get_their_collections(
    organization, member, project, models_registry
):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from apps.registries.models import Link
    from tests.factories import make_link, make_version

    link = make_link(make_version(project, member), models_registry, member, "classifier")
    before, after = [("registries", "0004_link_tag")], [("registries", "0005_link_registry")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    executor.loader.build_graph()
    executor.migrate(after)
    assert Link.objects.get(pk=link.pk).collection_registry == models_registry
