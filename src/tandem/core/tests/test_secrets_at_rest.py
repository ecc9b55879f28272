"""No credential in clear: a dump of the whole database holds no API key, TOTP secret or
recovery-code seed, and the encrypted secrets still work (and survive a key rotation).

The dump reads every row of every table through the database cursor (SQLite and PostgreSQL
alike; on SQLite also ``iterdump()``), and decodes the sessions, which are only signed.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from cryptography.fernet import Fernet
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from tandem.core import crypto
from tandem.core.auth import reencrypt, reencrypt_authenticators, secret_box
from tandem.core.demo import load_demo
from tandem.core.demo.data import PASSWORD as DEMO_PASSWORD
from tandem.core.demo.data import PEOPLE
from tandem.core.testing.mfa import (
    forget_used_codes,
    sign_in,
    sign_in_with_totp,
    signed_in_with_new_totp,
)

pytestmark = pytest.mark.django_db


def dump_database() -> str:
    """Every row of every table as text, plus the decoded sessions."""
    parts: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            parts.extend(repr(row) for row in cursor.fetchall())
    if connection.vendor == "sqlite":
        parts.extend(connection.connection.iterdump())
    for session in Session.objects.all():
        parts.append(repr(SessionStore().decode(session.session_data)))
    return "\n".join(parts)


def forms_of(secret: str) -> list[str]:
    """A secret as it might be written: as given, lower case, and (base32) its raw bytes."""
    forms = {secret, secret.lower(), secret.upper()}
    try:
        raw = base64.b32decode(secret)
    except ValueError:
        pass
    else:
        forms |= {raw.hex(), base64.b64encode(raw).decode()}
    return sorted(forms)


def test_a_dump_of_the_demo_holds_no_token_totp_secret_or_recovery_seed() -> None:
    """Done-when of issue 11: tokens issued and TOTP set up through the real pages."""
    load_demo()
    admin = next(person for person in PEOPLE if person.platform_admin)
    member = next(person for person in PEOPLE if not person.platform_admin)
    secrets: dict[str, str] = {}

    browser, totp = signed_in_with_new_totp(admin.email, DEMO_PASSWORD)
    secrets["admin TOTP secret"] = totp
    recovery = Authenticator.objects.get(user__email=admin.email, type="recovery_codes")
    secrets["admin recovery seed"] = secret_box().decrypt(recovery.data["seed"])
    issued = browser.post("/api/v1/core/tokens/", {"name": "admin script"})
    assert issued.status_code == 201 and issued.json()["mfa_verified"]
    secrets["admin API key"] = issued.json()["key"]
    page = browser.post(reverse("core:apitoken_list"), {"name": "from the page"})
    secrets["page key"] = page.context["key"]

    forget_used_codes()
    member_browser, member_totp = signed_in_with_new_totp(member.email, DEMO_PASSWORD)
    secrets["member TOTP secret"] = member_totp
    secrets["member key"] = member_browser.post("/api/v1/core/token/").json()["token"]
    plain = Client()
    sign_in(
        plain,
        next(p for p in PEOPLE if p.email not in {admin.email, member.email}).email,
        DEMO_PASSWORD,
    )
    secrets["password-only key"] = plain.post("/api/v1/core/token/").json()["token"]

    for name in [n for n in secrets if "key" in n]:
        secrets[f"{name} (secret part)"] = secrets[name].split("_", 2)[2]
    dump = dump_database()
    assert len(dump) > 10_000, "the dump reads the data"
    found = [name for name, secret in secrets.items() for form in forms_of(secret) if form in dump]
    assert not found, f"in clear in the database: {found}"

    # What is stored still works: the keys authenticate, the TOTP secret signs in.
    for name in ["admin API key", "page key", "member key", "password-only key"]:
        client = Client(HTTP_AUTHORIZATION=f"Token {secrets[name]}")
        assert client.get("/api/v1/core/engagements/").status_code == 200, name
    forget_used_codes()
    again = Client()
    sign_in_with_totp(again, admin.email, totp, DEMO_PASSWORD)
    assert again.get("/api/v1/core/engagements/").status_code == 200


def test_stored_secrets_are_authenticated_ciphertext_and_still_work(world) -> None:
    _, totp = signed_in_with_new_totp(world.it_lead.email)
    stored = Authenticator.objects.get(user=world.it_lead, type="totp")
    assert stored.data["secret"].startswith(crypto.MARKER)
    assert secret_box().decrypt(stored.data["secret"]) == totp
    ciphertext = stored.data["secret"]
    tampered = ciphertext[:-6] + ("BBBBBB" if ciphertext.endswith("AAAAAA") else "AAAAAA")
    with pytest.raises(crypto.KeyError_, match="cannot be decrypted"):
        secret_box().decrypt(tampered)
    # A recovery code (derived from the encrypted seed) signs in instead of the TOTP code.
    codes = Authenticator.objects.get(user=world.it_lead, type="recovery_codes")
    assert codes.data["seed"].startswith(crypto.MARKER)
    code = RecoveryCodes(codes).get_unused_codes()[0]
    browser = Client()
    sign_in(browser, world.it_lead.email)
    response = browser.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302 and browser.get("/engagements/").status_code == 200
    assert code not in RecoveryCodes(Authenticator.objects.get(pk=codes.pk)).get_unused_codes()


def test_rotation_new_key_first_then_rotate_mfa_key(world, settings) -> None:
    _, totp = signed_in_with_new_totp(world.it_lead.email)
    old_keys = list(settings.TANDEM_MFA_KEYS)
    new = Fernet.generate_key().decode()
    settings.TANDEM_MFA_KEYS = [new, *old_keys]
    before = Authenticator.objects.get(user=world.it_lead, type="totp").data["secret"]
    assert secret_box().decrypt(before) == totp, "old secrets still read with the old key after"

    out = io.StringIO()
    call_command("rotate_mfa_key", stdout=out)
    assert "Re-encrypted the secrets of 2 authenticator(s)." in out.getvalue()  # TOTP + codes
    settings.TANDEM_MFA_KEYS = [new]  # the old key removed
    after = Authenticator.objects.get(user=world.it_lead, type="totp").data["secret"]
    assert after != before and secret_box().decrypt(after) == totp
    forget_used_codes()
    again = Client()
    sign_in_with_totp(again, world.it_lead.email, totp)
    assert again.get("/engagements/").status_code == 200

    settings.TANDEM_MFA_KEYS = old_keys  # a key that never encrypted them: a clear error
    with pytest.raises(CommandError, match="cannot be decrypted with any TANDEM_MFA_KEY"):
        call_command("rotate_mfa_key", stdout=io.StringIO())
    settings.TANDEM_MFA_KEYS = [new]
    assert Authenticator.objects.get(user=world.it_lead, type="totp").data["secret"] == after


def test_secrets_stored_before_encryption_are_read_then_encrypted_by_the_migration(world):
    """As allauth's default adapter stored them: plain text. Still usable; migration 0007
    (``reencrypt_authenticators``) encrypts them in place."""
    plain = {"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}
    totp = Authenticator.objects.create(user=world.it_lead, type="totp", data=plain)
    seed = {"seed": "ab" * 40, "used_mask": 3, "migrated_codes": ["12345678"]}
    codes = Authenticator.objects.create(user=world.it_lead, type="recovery_codes", data=seed)
    assert secret_box().decrypt(plain["secret"]) == plain["secret"]
    assert reencrypt_authenticators(Authenticator) == 2
    assert reencrypt_authenticators(Authenticator) == 2, "re-encrypted, new ciphertext"
    totp.refresh_from_db()
    codes.refresh_from_db()
    assert secret_box().decrypt(totp.data["secret"]) == plain["secret"]
    assert codes.data["used_mask"] == 3, "what is not secret stays as it was"
    assert [secret_box().decrypt(c) for c in codes.data["migrated_codes"]] == ["12345678"]
    assert "ab" * 40 not in dump_database() and plain["secret"] not in dump_database()
    assert reencrypt({"used_mask": 1}) == {"used_mask": 1}


def test_keys_come_from_the_environment_or_debug_makes_one(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TANDEM_MFA_KEY", raising=False)
    monkeypatch.delenv("TANDEM_MFA_KEY_FILE", raising=False)
    with pytest.raises(crypto.KeyError_, match="TANDEM_MFA_KEY is not set"):
        crypto.load_keys(data_dir=tmp_path, debug=False)
    assert not (tmp_path / crypto.KEY_FILE_NAME).exists()
    made = crypto.load_keys(data_dir=tmp_path / "new", debug=True)
    key_file = tmp_path / "new" / crypto.KEY_FILE_NAME
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert crypto.load_keys(data_dir=tmp_path / "new", debug=True) == made
    one, two = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("TANDEM_MFA_KEY", f"{one}, {two}")
    assert crypto.load_keys(data_dir=tmp_path, debug=False) == [one, two]
    monkeypatch.setenv("TANDEM_MFA_KEY", "tooshort")
    with pytest.raises(crypto.KeyError_, match="key 1 is not a Fernet key"):
        crypto.load_keys(data_dir=tmp_path, debug=False)
    keys = tmp_path / "keys"
    keys.write_text(f"# newest first\n{two}\n{one}\n")
    monkeypatch.setenv("TANDEM_MFA_KEY_FILE", str(keys))
    assert crypto.load_keys(data_dir=tmp_path, debug=False) == [two, one]
