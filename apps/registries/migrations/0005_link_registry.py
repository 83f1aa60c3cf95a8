"""Links carry their collection's registry, filled in from it for the links already there."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_registry(apps, schema_editor):
    Collection = apps.get_model("registries", "Collection")
    Link = apps.get_model("registries", "Link")
    Link.objects.update(
        collection_registry_id=Subquery(
            Collection.objects.filter(pk=OuterRef("collection_id")).values("registry_id")
        )
    )


class Migration(migrations.Migration):
    dependencies = [("registries", "0004_link_tag")]

    operations = [
        migrations.AddField(
            model_name="link",
            name="collection_registry",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="registries.registry",
            ),
        ),
        migrations.RunPython(fill_registry, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="link",
            name="collection_registry",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="registries.registry",
            ),
        ),
    ]
