"""The audit log moves here from apps.lineage, in Django's state only: its table, rows, indexes
and PostgreSQL trigger stay as they are (lineage_auditevent). lineage's 0004 lets go of it."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0003_failed_attempts'),
        ('artifacts', '0004_blob_upload'),
        ('registries', '0004_link_tag'),
        ('lineage', '0003_audit_times_and_migration'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(choices=[('organization.create', 'Organization created'), ('registry.create', 'Registry created'), ('registry.update', 'Registry changed'), ('registry.delete', 'Registry deleted'), ('registry.star', 'Registry starred'), ('registry.unstar', 'Registry unstarred'), ('grant.set', 'Role granted'), ('grant.remove', 'Role removed'), ('protected_alias.add', 'Protected alias added'), ('protected_alias.remove', 'Protected alias removed'), ('collection.create', 'Collection created'), ('collection.update', 'Collection changed'), ('collection.delete', 'Collection deleted'), ('collection.tag_add', 'Collection tag added'), ('collection.tag_remove', 'Collection tag removed'), ('version.log', 'Version logged'), ('version.update', 'Version changed'), ('version.tag_add', 'Version tag added'), ('version.tag_remove', 'Version tag removed'), ('link.create', 'Version linked'), ('link.delete', 'Version unlinked'), ('alias.add', 'Alias added'), ('alias.move', 'Alias moved'), ('alias.remove', 'Alias removed'), ('version.download', 'Files downloaded'), ('collection.migrate', 'Migrated from the legacy Model Registry')], max_length=32)),
                ('actor_name', models.CharField(blank=True, max_length=150)),
                ('target', models.CharField(help_text='The path of what changed, at the time.', max_length=512)),
                ('data', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('actor', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('collection', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='registries.collection')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='audit_events', to='accounts.organization')),
                ('registry', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='registries.registry')),
                ('version', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='artifacts.artifactversion')),
            ],
            options={
                'db_table': 'lineage_auditevent',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['organization', '-created_at', '-id'], name='lineage_aud_organiz_ed26ae_idx'), models.Index(fields=['collection', '-created_at', '-id'], name='lineage_aud_collect_f44a38_idx'), models.Index(fields=['version', '-created_at', '-id'], name='lineage_aud_version_19b318_idx')],
            },
        ),
        ]),
    ]
