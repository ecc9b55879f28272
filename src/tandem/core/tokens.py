"""Issuing, finding and revoking API tokens; only a digest of each key is ever stored.

A key reads ``tdm_<prefix>_<secret>``: the prefix (12 hex characters, stored in clear and
shown in lists) finds the row, the SHA-256 digest of the whole key proves it, compared in
constant time. The key is returned once, by ``issue_token``, and never written anywhere:
not in the database, not in the audit trail, not in the log.

Every issue and revocation is in the audit trail (``ApiToken`` is not a ``ChangeLoggedModel``;
this module records it, without the digest).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from tandem.core import audit
from tandem.core.choices import AuditAction
from tandem.core.models import ApiToken

KEY_PREFIX = "tdm"
PREFIX_BYTES = 6  # 12 hex characters: fits ApiToken.prefix (16)
SECRET_BYTES = 32
NAME_MAX_LENGTH: int = ApiToken._meta.get_field("name").max_length  # type: ignore[assignment]
# How often at most ``last_used`` is written: reads must not each cost a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Audit snapshots of a token leave out its digest (not the key, but nothing anyone needs).
AUDIT_EXCLUDE = frozenset({"digest"})


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# What a key can look like: anything else is refused before the database is asked (no odd
# character, e.g. a NUL that PostgreSQL would refuse, ever reaches a query).
_KEY_FORMAT = re.compile(
    rf"{KEY_PREFIX}_(?P<prefix>[0-9a-f]{{{PREFIX_BYTES * 2}}})_(?P<secret>[A-Za-z0-9_-]{{20,200}})"
)


def split_key(key: str) -> tuple[str, str] | None:
    """The (prefix, secret) of a well-formed key, or None."""
    match = _KEY_FORMAT.fullmatch(key.strip())
    if match is None:
        return None
    return match["prefix"], match["secret"]


def snapshot(token: ApiToken) -> dict[str, Any]:
    data = audit.snapshot(token)
    for name in AUDIT_EXCLUDE:
        data.pop(name, None)
    return data


def issue_token(
    user: Any,
    *,
    name: str,
    mfa_verified: bool = False,
    expires: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return the row and its key (shown once, never stored).

    ``mfa_verified`` says the session that asked for it passed a second factor; callers
    decide that (``tandem.core.mfa.session_passed_mfa``)."""
    name = name.strip()
    if not name:
        raise ValueError("A token needs a name (what it is for).")
    if len(name) > NAME_MAX_LENGTH:
        raise ValueError(f"A token's name has at most {NAME_MAX_LENGTH} characters.")
    if expires is not None and expires <= timezone.now():
        raise ValueError("The expiry date must be in the future.")
    with transaction.atomic():
        while True:
            prefix = secrets.token_hex(PREFIX_BYTES)
            if not ApiToken.objects.filter(prefix=prefix).exists():
                break
        key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            digest=digest_of(key),
            mfa_verified=mfa_verified,
            expires=expires,
        )
        audit.record(
            token,
            action=AuditAction.CREATE,
            before=None,
            after=snapshot(token),
            message="API token issued" + (" (two-factor verified)" if mfa_verified else ""),
        )
    return token, key


def find_key(key: str) -> ApiToken | None:
    """The token whose key this is (revoked, expired or not), or None."""
    parts = split_key(key)
    if parts is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[0]).first()
    if token is None or not hmac.compare_digest(token.digest, digest_of(key.strip())):
        return None
    return token


def is_usable(token: ApiToken, *, now: datetime | None = None) -> bool:
    """Not revoked, not expired, and its owner may still sign in."""
    now = now or timezone.now()
    return (
        token.revoked is None
        and (token.expires is None or token.expires > now)
        and token.user.is_active
    )


def touch(token: ApiToken, *, now: datetime | None = None) -> None:
    """Bring ``last_used`` up to date, at most once per ``LAST_USED_RESOLUTION`` (one
    UPDATE, no audit record: using a token changes nothing a person would call a change)."""
    now = now or timezone.now()
    if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now


def authenticate_key(key: str) -> ApiToken | None:
    """The usable token of this key (see ``is_usable``), its ``last_used`` brought up to
    date (see ``touch``); None for any other key."""
    token = find_key(key)
    now = timezone.now()
    if token is None or not is_usable(token, now=now):
        return None
    touch(token, now=now)
    return token


def revoke_token(token: ApiToken) -> bool:
    """Revoke ``token`` (audited); False when it already was."""
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked is not None:
            token.revoked = locked.revoked
            return False
        before = snapshot(locked)
        locked.revoked = timezone.now()
        locked.save(update_fields=["revoked"])
        token.revoked = locked.revoked
        audit.record(
            locked,
            action=AuditAction.DELETE,
            before=before,
            after=snapshot(locked),
            message="API token revoked",
        )
    return True
