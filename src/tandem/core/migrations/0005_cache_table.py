"""The database cache's table (settings.CACHES, "tandem_cache"): the sign-in rate limits count
there, shared by every web process. Created here so that every path that migrates (``tandem
migrate`` in a deployment, ``tandem demo``, the test databases) has it; created even when Redis
is configured, so switching back to the database cache needs no extra step. ``createcachetable``
leaves an existing table alone; unapplying leaves the table (it holds nothing worth keeping and
``createcachetable`` would make it again).
"""

from django.core.management import call_command
from django.db import migrations

CACHE_TABLE = "tandem_cache"  # settings.CACHES["default"]["LOCATION"] without Redis


def create_cache_table(apps, schema_editor):
    call_command(
        "createcachetable", CACHE_TABLE, database=schema_editor.connection.alias, verbosity=0
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_api_tokens_progress_lease"),
    ]

    operations = [
        migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=False),
    ]
