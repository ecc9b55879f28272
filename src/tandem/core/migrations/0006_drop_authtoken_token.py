"""Drop DRF's ``authtoken_token`` table: it held every API key in clear.

Tandem's tokens are now ``core.ApiToken`` (a SHA-256 digest only). The old keys simply stop
working (their owners issue new tokens under "API tokens"); they must not stay readable in
the database or its backups. Written by hand: ``rest_framework.authtoken`` left
``INSTALLED_APPS``, so nothing else would remove its table, its migration records or its
content types. Nothing to undo: the keys are gone for good.
"""

from django.db import migrations


def drop_authtoken(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" in connection.introspection.table_names():
        schema_editor.execute(
            "DROP TABLE %s" % schema_editor.quote_name("authtoken_token")  # noqa: UP031
        )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = %s", ["authtoken"])
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    stale = ContentType.objects.filter(app_label="authtoken")
    Permission.objects.filter(content_type__in=stale).delete()
    stale.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_cache_table"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(drop_authtoken, migrations.RunPython.noop, elidable=False),
    ]
