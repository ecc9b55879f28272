"""django-allauth glue: Tandem has no self-service sign-up (administrators create people);
two-factor secrets are encrypted at rest."""

from __future__ import annotations

import functools
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from tandem.core.crypto import SecretBox


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> Any:
        return super().get_login_redirect_url(request)

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address the sign-in rate limits count per: the audit trail's, so both honour
        ``TANDEM_TRUSTED_PROXIES`` alike (and a malformed ``X-Forwarded-For`` is no 500)."""
        from tandem.core.middleware import client_address

        address = client_address(request)
        if address is None:
            raise PermissionDenied("Unable to determine the client's address.")
        return address

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """The "key" of the ``login_failed`` rate limit: the account *and* the client address.

        allauth's own key is the account alone, so failures from anywhere would lock its owner
        out; with the address in it, each address has its own allowance per account and the
        owner, signing in from elsewhere, is never locked out by someone else's guesses.
        """
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}@{self.get_client_ip(request)}"


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are encrypted at rest (``tandem.core.crypto``,
    keys from ``TANDEM_MFA_KEY``); whoever reads a backup without the key learns none."""

    def encrypt(self, text: str) -> str:
        return secret_box().encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return secret_box().decrypt(encrypted_text)

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """A person who must use a second factor cannot turn their TOTP off (they may
        replace it: recovery codes, then a new authenticator, or an administrator resets it)."""
        from tandem.core.mfa import requires_mfa

        if authenticator.type == Authenticator.Type.TOTP and requires_mfa(authenticator.user):
            return False
        return super().can_delete_authenticator(authenticator)


@functools.cache
def _box_for(keys: tuple[str, ...]) -> SecretBox:
    return SecretBox(list(keys))


def secret_box() -> SecretBox:
    return _box_for(tuple(settings.TANDEM_MFA_KEYS))


# Where allauth keeps secrets in ``Authenticator.data``: one text, or a list of texts.
_SECRET_FIELDS = {"secret": False, "seed": False, "migrated_codes": True}


def reencrypt(data: dict[str, Any], box: SecretBox | None = None) -> dict[str, Any]:
    """``Authenticator.data`` with every secret encrypted with the newest key (plain ones
    encrypted, older keys' re-encrypted); other entries unchanged."""
    box = box or secret_box()
    result = dict(data)
    for name, is_list in _SECRET_FIELDS.items():
        value = result.get(name)
        if value is None:
            continue
        result[name] = [box.rotate(v) for v in value] if is_list else box.rotate(value)
    return result


def reencrypt_authenticators(model: Any, box: SecretBox | None = None) -> int:
    """Re-encrypt every authenticator's secrets (``model``: allauth's ``Authenticator`` or
    its historical version in a migration); the number of rows changed.

    ``QuerySet.update`` on purpose: the ciphertext changes, nothing a person did, so no
    audit record (the audit trail never holds ``data`` anyway)."""
    changed = 0
    for pk, data in model.objects.values_list("pk", "data"):
        if not isinstance(data, dict):
            continue
        new = reencrypt(data, box)
        if new != data:
            model.objects.filter(pk=pk).update(data=new)
            changed += 1
    return changed
