"""Behind a reverse proxy: the client address, the sign-in rate limits and their shared cache.

``TANDEM_TRUSTED_PROXIES`` proxies append to ``X-Forwarded-For``; the client is the Nth entry
from the right. The audit trail and allauth's rate limits read the same address, and the rate
limits count in a cache every process shares (the database, or Redis when configured).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import time_machine
from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from tandem.core.choices import AuditAction
from tandem.core.middleware import client_address
from tandem.core.testing.factories import PASSWORD

TOO_MANY = "Too many failed login attempts"
PROXY = "127.0.0.1"  # the reverse proxy on the same machine, as docs/deployment.md has it


# --- the client address -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        (0, "198.51.100.7", PROXY, PROXY),  # no trusted proxy: the header is anyone's claim
        (1, "198.51.100.7", PROXY, "198.51.100.7"),
        (1, "6.6.6.6, 198.51.100.7", PROXY, "198.51.100.7"),  # the client's own claim: ignored
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.2", PROXY, "198.51.100.7"),
        (2, "198.51.100.7", PROXY, PROXY),  # fewer hops than proxies: misconfigured, fall back
        (1, "", PROXY, PROXY),
        (1, "not-an-address", PROXY, PROXY),
        (1, "198.51.100.7, <script>", PROXY, PROXY),
        (1, "1.2.3.4, 999.1.1.1", PROXY, PROXY),
        (1, ",,,", PROXY, PROXY),
        (1, "x" * 10_000, PROXY, PROXY),
        (1, "198.51.100.7:54321", PROXY, "198.51.100.7"),
        (1, "[2001:db8::7]:443", PROXY, "2001:db8::7"),
        (1, "2001:DB8:0::7", PROXY, "2001:db8::7"),
        (1, "fe80::1%eth0", PROXY, "fe80::1"),
        (1, " 198.51.100.7 ", PROXY, "198.51.100.7"),
        (0, "", "", None),  # a Unix socket: no address at all
        (0, "", "garbage", None),
        (1, "garbage", "", None),
    ],
)
def test_client_address(settings, proxies, forwarded, remote, expected) -> None:
    settings.TANDEM_TRUSTED_PROXIES = proxies
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **headers)
    assert client_address(request) == expected


def test_allauth_is_told_the_same_number_of_proxies() -> None:
    assert django_settings.ALLAUTH_TRUSTED_PROXY_COUNT == django_settings.TANDEM_TRUSTED_PROXIES


def test_the_adapter_hook_the_per_address_key_relies_on_exists() -> None:
    # AccountAdapter._get_login_attempts_cache_key puts the address into the login_failed key;
    # should allauth rename its hook, this fails instead of the accounts becoming lockable.
    assert callable(getattr(DefaultAccountAdapter, "_get_login_attempts_cache_key", None))


# --- sign-in rate limits with the production values -------------------------------------------


@pytest.fixture
def limits_on(settings):
    """The production rate limits (tests run without them) behind one trusted proxy."""
    settings.ACCOUNT_RATE_LIMITS = settings.TANDEM_RATE_LIMITS
    settings.TANDEM_TRUSTED_PROXIES = 1
    cache.clear()  # the database cache: rolled back with the test's transaction
    return settings


def _sign_in(client, login: str, password: str, forwarded: str | None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client.post(
        reverse("account_login"),
        {"login": login, "password": password},
        REMOTE_ADDR=PROXY,
        **headers,
    )


def _signed_in(response) -> bool:
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


@pytest.mark.django_db
def test_guesses_from_many_addresses_do_not_lock_the_owner_out(world, client, limits_on) -> None:
    # More failures than the per-account allowance (30 an hour), each from its own address,
    # as a botnet would send them through the proxy.
    for n in range(35):
        page = _sign_in(client, "itlead@alpha.test", "wrong", f"203.0.113.{n + 1}")
        assert page.status_code == 200
        assert TOO_MANY not in page.content.decode()
    response = _sign_in(client, "itlead@alpha.test", PASSWORD, "198.51.100.20")
    assert _signed_in(response)


@pytest.mark.django_db
def test_six_failures_from_one_address_block_that_address_only(world, client, limits_on) -> None:
    pages = [
        _sign_in(client, "itlead@alpha.test", "wrong", "203.0.113.9").content.decode()
        for _ in range(6)
    ]
    assert not any(TOO_MANY in page for page in pages[:5])
    assert TOO_MANY in pages[5]
    # That address is refused even with the right password, for any account...
    assert not _signed_in(_sign_in(client, "itlead@alpha.test", PASSWORD, "203.0.113.9"))
    assert not _signed_in(_sign_in(client, "sponsor@alpha.test", PASSWORD, "203.0.113.9"))
    # ...while the same proxy still lets the owner in from anywhere else.
    assert _signed_in(_sign_in(client, "itlead@alpha.test", PASSWORD, "198.51.100.20"))


@pytest.mark.django_db
def test_an_address_gets_thirty_guesses_an_hour_per_account(world, client, limits_on) -> None:
    with time_machine.travel("2026-03-02 09:00Z", tick=False) as clock:
        for _ in range(6):  # 6 × 5 failures, a minute apart: under the per-address rate
            for _ in range(5):
                page = _sign_in(client, "itlead@alpha.test", "wrong", "203.0.113.9")
                assert TOO_MANY not in page.content.decode()
            clock.shift(61)
        page = _sign_in(client, "itlead@alpha.test", "wrong", "203.0.113.9").content.decode()
        assert TOO_MANY in page
        assert not _signed_in(_sign_in(client, "itlead@alpha.test", PASSWORD, "203.0.113.9"))
        # Another account from that address, and this account from another, are unaffected.
        assert _signed_in(_sign_in(client, "sponsor@alpha.test", PASSWORD, "203.0.113.9"))
        client.logout()
        assert _signed_in(_sign_in(client, "itlead@alpha.test", PASSWORD, "198.51.100.20"))


@pytest.mark.django_db
def test_the_counters_are_in_the_shared_cache_table(world, client, limits_on) -> None:
    assert django_settings.CACHES["default"]["BACKEND"].endswith("db.DatabaseCache")
    _sign_in(client, "itlead@alpha.test", "wrong", "203.0.113.9")
    table = connection.ops.quote_name(django_settings.CACHES["default"]["LOCATION"])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cache_key FROM {table}")  # noqa: S608 - a fixed table name
        keys = [row[0] for row in cursor.fetchall()]
    assert any("login_failed" in key for key in keys), keys


@pytest.mark.django_db
def test_the_audit_trail_records_the_forwarded_address(world, client, limits_on) -> None:
    from tandem.core.audit import history_of

    _sign_in(client, "itlead@alpha.test", "wrong", "6.6.6.6, 198.51.100.44")
    _sign_in(client, "itlead@alpha.test", PASSWORD, "6.6.6.6, 198.51.100.44")
    failed, signed_in = (
        history_of(world.it_lead)
        .filter(action__in=[AuditAction.LOGIN_FAILED, AuditAction.LOGIN])
        .order_by("pk")
    )
    assert failed.action == AuditAction.LOGIN_FAILED
    assert signed_in.action == AuditAction.LOGIN
    assert {failed.client_address, signed_in.client_address} == {"198.51.100.44"}


@pytest.mark.django_db
def test_without_trusted_proxies_a_spoofed_header_is_ignored(world, client, limits_on) -> None:
    limits_on.TANDEM_TRUSTED_PROXIES = 0
    from tandem.core.audit import history_of

    pages = [
        _sign_in(client, "itlead@alpha.test", "wrong", f"203.0.113.{n + 1}").content.decode()
        for n in range(6)
    ]
    # Six addresses claimed, one connection: counted as one address, and blocked as one.
    assert TOO_MANY in pages[5]
    addresses = set(
        history_of(world.it_lead)
        .filter(action=AuditAction.LOGIN_FAILED)
        .values_list("client_address", flat=True)
    )
    assert addresses == {PROXY}


@pytest.mark.django_db
@pytest.mark.parametrize("forwarded", ["", "garbage", "nope, 1.2.3.4", "x" * 5000, ","])
def test_a_malformed_header_falls_back_to_the_connection(
    world, client, limits_on, forwarded
) -> None:
    from tandem.core.audit import history_of

    limits_on.TANDEM_TRUSTED_PROXIES = 2  # also: fewer hops than proxies
    assert _sign_in(client, "itlead@alpha.test", "wrong", forwarded).status_code == 200
    assert _signed_in(_sign_in(client, "itlead@alpha.test", PASSWORD, forwarded))
    records = history_of(world.it_lead).filter(
        action__in=[AuditAction.LOGIN_FAILED, AuditAction.LOGIN]
    )
    assert {record.client_address for record in records} == {PROXY}


# --- the cache is shared by every process -------------------------------------------------------


def _process_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TANDEM_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    return env | {"TANDEM_DATA_DIR": str(data_dir), "TANDEM_LOG_LEVEL": "WARNING"} | extra


def _in_process(env: dict[str, str], code: str) -> str:
    script = "import django; django.setup()\nfrom django.core.cache import cache\n" + code
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env | {"DJANGO_SETTINGS_MODULE": "tandem.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_fresh_database_gets_the_cache_table_from_migrate(tmp_path: Path) -> None:
    env = _process_env(tmp_path)
    migrate = subprocess.run(
        [sys.executable, "-m", "tandem", "migrate", "-v0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    # One process counts, another (a second gunicorn worker) sees the count.
    _in_process(env, "cache.set('tandem-test-shared', 41); cache.incr('tandem-test-shared')")
    assert _in_process(env, "print(cache.get('tandem-test-shared'))") == "42"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")


@needs_redis
def test_redis_when_configured_is_shared_by_processes(tmp_path: Path) -> None:
    env = _process_env(tmp_path, TANDEM_REDIS_URL="redis://127.0.0.1:6379/0")
    key = f"tandem-test-{uuid.uuid4().hex}"
    backend = _in_process(env, "from django.conf import settings; print(settings.CACHES)")
    assert "RedisCache" in backend
    _in_process(env, f"cache.set({key!r}, 41, 60); cache.incr({key!r})")
    assert _in_process(env, f"print(cache.get({key!r})); cache.delete({key!r})") == "42"


@needs_redis
@pytest.mark.django_db
def test_the_rate_limits_count_in_redis(world, client, limits_on) -> None:
    from django.core.cache import caches

    prefix = f"tandem-test-{uuid.uuid4().hex}"
    limits_on.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": prefix,
        }
    }
    redis = caches["default"]._cache.get_client(write=True)
    try:
        pages = [
            _sign_in(client, "itlead@alpha.test", "wrong", "203.0.113.9").content.decode()
            for _ in range(6)
        ]
        assert TOO_MANY in pages[5]
        assert any(b"login_failed" in key for key in redis.keys(f"{prefix}:*"))
        assert _signed_in(_sign_in(client, "itlead@alpha.test", PASSWORD, "198.51.100.20"))
    finally:
        for key in redis.keys(f"{prefix}:*"):
            redis.delete(key)


def test_a_negative_proxy_count_stops_tandem(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tandem", "check"],
        env=_process_env(tmp_path, TANDEM_TRUSTED_PROXIES="-1"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "TANDEM_TRUSTED_PROXIES" in result.stdout + result.stderr
