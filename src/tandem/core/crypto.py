"""Encryption at rest of two-factor secrets (TOTP keys, recovery-code seeds).

Authenticated encryption with Fernet (AES-128-CBC plus HMAC-SHA256, from ``cryptography``);
``MultiFernet`` for rotation: several keys, the newest first, encrypts with the first and
decrypts with any. The keys come from ``TANDEM_MFA_KEY`` (comma-separated) or
``TANDEM_MFA_KEY_FILE`` (one key a line). Without either, debug mode (the embedded default)
makes one in the data directory (``mfa.key``, mode 0600) and says so in the log; with debug
off Tandem refuses to start, as without ``TANDEM_SECRET_KEY``.

Django-free: settings read the keys at start-up (``load_keys``), so a bad key stops Tandem
before it serves anything.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from tandem import env

logger = logging.getLogger(__name__)

KEY_FILE_NAME = "mfa.key"
# Every value this module writes starts so: text without it was stored before encryption
# (or by allauth's default adapter) and is read as it is, then encrypted on its next save.
MARKER = "tdmenc1:"


class KeyError_(ValueError):
    """A configured key is not a Fernet key."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _parse(text: str, source: str) -> list[str]:
    keys = [part.strip() for line in text.splitlines() for part in line.split(",")]
    keys = [key for key in keys if key and not key.startswith("#")]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise KeyError_(
                f"{source}: key {position} is not a Fernet key (32 url-safe base64-encoded "
                "bytes); make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`."
            ) from None
    return keys


def load_keys(*, data_dir: Path, debug: bool) -> list[str]:
    """The keys, newest first, from the environment or (debug only) the data directory."""
    configured = env.secret("TANDEM_MFA_KEY", default="")
    source = "TANDEM_MFA_KEY_FILE" if os.environ.get("TANDEM_MFA_KEY_FILE") else "TANDEM_MFA_KEY"
    if configured.strip():
        keys = _parse(configured, source)
        if keys:
            return keys
    if not debug:
        raise KeyError_(
            "TANDEM_MFA_KEY is not set. With TANDEM_DEBUG off Tandem refuses to start without "
            "the key that encrypts two-factor secrets at rest: set TANDEM_MFA_KEY (or "
            "TANDEM_MFA_KEY_FILE) to a key made with `python -c 'from cryptography.fernet "
            "import Fernet; print(Fernet.generate_key().decode())'` (several, comma-separated "
            "and newest first, to rotate)."
        )
    return _parse(_embedded_key(data_dir), str(data_dir / KEY_FILE_NAME))


def _embedded_key(data_dir: Path) -> str:
    path = data_dir / KEY_FILE_NAME
    try:
        return path.read_text()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    try:  # O_EXCL: two processes starting at once keep the first one's key
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    logger.warning(
        "Generated the key that encrypts two-factor secrets at %s (debug mode). Keep it with "
        "the database: without it nobody can sign in with two-factor authentication. In "
        "production set TANDEM_MFA_KEY or TANDEM_MFA_KEY_FILE.",
        path,
    )
    return key


_UNREADABLE = (
    "A two-factor secret cannot be decrypted with any TANDEM_MFA_KEY: the key it was "
    "encrypted with is missing, or the stored value was altered (keep the old keys after "
    "the new one when rotating)."
)


class SecretBox:
    """Encrypt and decrypt short texts with the newest of several keys."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise KeyError_("no key to encrypt two-factor secrets with")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, text: str) -> str:
        return MARKER + self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(MARKER):
            return stored  # written before encryption at rest: read as it is
        try:
            return self._fernet.decrypt(stored[len(MARKER) :].encode()).decode()
        except InvalidToken:
            raise KeyError_(_UNREADABLE) from None

    def rotate(self, stored: str) -> str:
        """``stored`` re-encrypted with the newest key (plain text encrypted)."""
        if not stored.startswith(MARKER):
            return self.encrypt(stored)
        try:
            token = self._fernet.rotate(stored[len(MARKER) :].encode())
        except InvalidToken:
            raise KeyError_(_UNREADABLE) from None
        return MARKER + token.decode()
