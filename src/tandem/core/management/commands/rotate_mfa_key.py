"""``tandem rotate_mfa_key``: re-encrypt every two-factor secret with the newest key."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tandem.core.auth import reencrypt_authenticators
from tandem.core.crypto import KeyError_


class Command(BaseCommand):
    help = (
        "Re-encrypt every TOTP secret and recovery-code seed with the first (newest) key of "
        "TANDEM_MFA_KEY. Rotate so: put the new key first and keep the old ones after it, run "
        "this, then remove the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                changed = reencrypt_authenticators(Authenticator)
        except KeyError_ as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Re-encrypted the secrets of {changed} authenticator(s).")
