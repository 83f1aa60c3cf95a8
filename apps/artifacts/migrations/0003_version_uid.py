import uuid

from django.db import migrations, models


def give_each_version_a_uid(apps, schema_editor):
    ArtifactVersion = apps.get_model("artifacts", "ArtifactVersion")
    for version in ArtifactVersion.objects.only("pk").iterator():
        ArtifactVersion.objects.filter(pk=version.pk).update(uid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("artifacts", "0002_version_tag_format")]

    operations = [
        migrations.AddField(
            model_name="artifactversion",
            name="uid",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(give_each_version_a_uid, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="artifactversion",
            name="uid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
