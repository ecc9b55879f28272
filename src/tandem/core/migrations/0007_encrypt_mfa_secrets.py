"""Encrypt the two-factor secrets stored before encryption at rest (TOTP keys, recovery-code
seeds), with the newest ``TANDEM_MFA_KEY``. Later secrets are encrypted as they are written
(``tandem.core.auth.MFAAdapter``); ``tandem rotate_mfa_key`` re-encrypts after a key change.

Backwards: the secrets stay encrypted (allauth's default adapter could not read them; keep
``MFA_ADAPTER`` if you unapply this).
"""

from django.db import migrations


def encrypt_secrets(apps, schema_editor):
    from tandem.core.auth import reencrypt_authenticators

    reencrypt_authenticators(apps.get_model("mfa", "Authenticator"))


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_drop_authtoken_token"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [
        migrations.RunPython(encrypt_secrets, migrations.RunPython.noop, elidable=False),
    ]
