"""The organization-level right to open engagements ("organization administrator").

Nobody holds it after the migration: until a platform administrator grants it, only platform
administrators open engagements (before, every person of a client organization could).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_encrypt_mfa_secrets"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="may_open_engagements",
            field=models.BooleanField(
                default=False,
                help_text="May open engagements for their organization.",
                verbose_name="organization administrator",
            ),
        ),
    ]
