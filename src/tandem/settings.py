"""Tandem's one settings module.

Everything that differs between a laptop demo and a production deployment comes from
environment variables, read through the small helpers in ``tandem.env`` that fail loudly.
The defaults are the embedded mode: SQLite under ``TANDEM_DATA_DIR`` and debug on.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dj_database_url
import django
from django.core.exceptions import ImproperlyConfigured

from tandem import env
from tandem.core import crypto
from tandem.core.tasks_compat import IMMEDIATE_BACKEND

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env.string("TANDEM_DATA_DIR", ".tandem")).resolve()

DEBUG = env.boolean("TANDEM_DEBUG", default=True)
TESTING = "pytest" in sys.modules or env.boolean("TANDEM_TESTING", default=False)

_DEV_SECRET = "tandem-insecure-development-key-do-not-use-in-production"
SECRET_KEY = env.secret("TANDEM_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "TANDEM_SECRET_KEY is not set. With TANDEM_DEBUG off Tandem refuses to start on a "
            "default secret: set TANDEM_SECRET_KEY (or TANDEM_SECRET_KEY_FILE) to a long random "
            "value, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    SECRET_KEY = _DEV_SECRET

ALLOWED_HOSTS = env.strings("TANDEM_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.strings("TANDEM_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "django_tasks_db",
    "tandem.core",
    "tandem.service",
    "tandem.contracts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tandem.core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tandem.core.middleware.AuditContextMiddleware",
    "tandem.core.middleware.RequireAdminMFAMiddleware",
]

ROOT_URLCONF = "tandem.urls"
WSGI_APPLICATION = "tandem.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tandem.core.context_processors.navigation",
                "tandem.core.context_processors.notifications",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------------
DATABASE_URL = env.string("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "tandem.sqlite3",
            # The web server and the task worker share the file: wait for a lock, never fail.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- authentication -----------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "tandem.core.auth.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
# Five failed sign-ins a minute per client address, and thirty an hour per account *from one
# address* (the adapter puts the address into the key): nobody can lock a person out by
# guessing their password from elsewhere. The counters live in the shared cache (CACHES).
TANDEM_RATE_LIMITS = {
    "login_failed": "5/m/ip,30/h/key",
    "login": "30/m/ip",
    "reset_password": "5/m/ip,5/h/key",
}
# Off under tests (a test that needs them sets ACCOUNT_RATE_LIMITS = TANDEM_RATE_LIMITS).
ACCOUNT_RATE_LIMITS = False if TESTING else TANDEM_RATE_LIMITS
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Tandem"
MFA_ADAPTER = "tandem.core.auth.MFAAdapter"
# The keys that encrypt TOTP secrets and recovery-code seeds at rest, newest first (rotation).
# Debug mode without TANDEM_MFA_KEY makes one at $TANDEM_DATA_DIR/mfa.key; production refuses.
try:
    TANDEM_MFA_KEYS = crypto.load_keys(data_dir=DATA_DIR, debug=DEBUG)
except crypto.KeyError_ as exc:
    raise ImproperlyConfigured(str(exc)) from None

SESSION_COOKIE_AGE = env.integer("TANDEM_SESSION_SECONDS", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SESSION_COOKIE_SECURE = env.boolean("TANDEM_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env.boolean("TANDEM_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.integer("TANDEM_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "tandem.core.errors.csrf_failure"
# Every response (tandem.core.security): no inline script, nothing from another origin.
# Inline styles stay allowed: plotly.js and htmx write style rules as they draw.
TANDEM_CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# Browser features no Tandem page uses, off for every page and anything it embeds.
TANDEM_PERMISSIONS_POLICY = [
    "accelerometer",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "usb",
    "serial",
    "hid",
]
# Reverse proxies in front of Tandem that append to X-Forwarded-For: the client address (audit
# trail, sign-in rate limits) is the Nth entry from the right; 0 ignores the header.
TANDEM_TRUSTED_PROXIES = env.integer("TANDEM_TRUSTED_PROXIES", default=0)
if TANDEM_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured(
        f"TANDEM_TRUSTED_PROXIES={TANDEM_TRUSTED_PROXIES} is negative: use the number of "
        "reverse proxies in front of Tandem (0 when clients connect directly)."
    )
ALLAUTH_TRUSTED_PROXY_COUNT = TANDEM_TRUSTED_PROXIES
# The admin MFA requirement can be switched off for a lab; never in production.
TANDEM_REQUIRE_ADMIN_MFA = env.boolean("TANDEM_REQUIRE_ADMIN_MFA", default=True)

# --- cache: shared by every process (sign-in rate limits) ----------------------------------
# The database by default (its table comes with core's migrations), Redis when configured.
# Never per-process memory: each gunicorn worker would count failed sign-ins on its own.
REDIS_URL = env.string("TANDEM_REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "tandem",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            # Created by core's migration 0005_cache_table (the name is fixed there too).
            "LOCATION": "tandem_cache",
        }
    }

# --- e-mail (tandem.core.notifications): SMTP to TANDEM_EMAIL_HOST; without one, the console
# in debug (the embedded mode) and the machine's own mail relay (localhost:25) in production ---
_EMAIL_HOST = env.string("TANDEM_EMAIL_HOST") or ("" if DEBUG else "localhost")
if _EMAIL_HOST:
    _EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    _EMAIL_OPTIONS = {
        "host": _EMAIL_HOST,
        "port": env.integer("TANDEM_EMAIL_PORT", default=587 if _EMAIL_HOST != "localhost" else 25),
        "username": env.string("TANDEM_EMAIL_USER", default=""),
        "password": env.secret("TANDEM_EMAIL_PASSWORD", default=""),
        "use_tls": env.boolean("TANDEM_EMAIL_USE_TLS", default=_EMAIL_HOST != "localhost"),
        "timeout": 10,
    }
else:
    # The embedded mode prints each message on the server's console.
    _EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    _EMAIL_OPTIONS = {}
if django.VERSION >= (6, 1):  # the MAILERS setting; earlier versions read EMAIL_*
    MAILERS = {"default": {"BACKEND": _EMAIL_BACKEND, "OPTIONS": _EMAIL_OPTIONS}}
else:
    EMAIL_BACKEND = _EMAIL_BACKEND
    EMAIL_HOST = _EMAIL_OPTIONS.get("host", "localhost")
    EMAIL_PORT = _EMAIL_OPTIONS.get("port", 25)
    EMAIL_HOST_USER = _EMAIL_OPTIONS.get("username", "")
    EMAIL_HOST_PASSWORD = _EMAIL_OPTIONS.get("password", "")
    EMAIL_USE_TLS = _EMAIL_OPTIONS.get("use_tls", False)
    EMAIL_TIMEOUT = _EMAIL_OPTIONS.get("timeout")
DEFAULT_FROM_EMAIL = env.string("TANDEM_EMAIL_FROM", default="Tandem <tandem@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address people reach Tandem at, e.g. https://tandem.example.org: e-mails link to it.
TANDEM_BASE_URL = env.string("TANDEM_BASE_URL", default="").rstrip("/")

# --- internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static files: everything from installed packages, never a CDN ---------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = DATA_DIR / "media"
# Uploads above 2.5 MB stream to a temporary file, never into memory; a ticket export may be
# as large as TANDEM_MAX_IMPORT_BYTES (the import wizard refuses anything larger).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
TANDEM_MAX_IMPORT_BYTES = env.integer("TANDEM_MAX_IMPORT_BYTES", default=2 * 1024**3)
# A contract document (PDF or DOCX) may be at most this large: tandem.contracts.uploads.
TANDEM_CONTRACT_DOCUMENT_MAX_BYTES = env.integer(
    "TANDEM_CONTRACT_DOCUMENT_MAX_BYTES", default=25 * 1024 * 1024
)
# What one export may hold once read (tandem.ingest.limits; TANDEM_MAX_IMPORT_BYTES also
# bounds what a gzip file or a workbook expands to): every reader stops at these.
TANDEM_IMPORT_MAX_ROWS = env.integer("TANDEM_IMPORT_MAX_ROWS", default=20_000_000)
TANDEM_IMPORT_MAX_COLUMNS = env.integer("TANDEM_IMPORT_MAX_COLUMNS", default=2_000)
TANDEM_IMPORT_MAX_CELL_CHARS = env.integer("TANDEM_IMPORT_MAX_CELL_CHARS", default=32_767)
# The import wizard reads a file for its preview in the background, within this many seconds
# (over it the preview fails and says so): tandem.service.tasks_preview.
TANDEM_PREVIEW_SECONDS = max(1, env.integer("TANDEM_PREVIEW_SECONDS", default=60))
# List exports (CSV, XLSX) of more rows than this are written by a background worker, with a
# progress bar and a download link: tandem.core.exports_background.
TANDEM_EXPORT_BACKGROUND_ROWS = max(0, env.integer("TANDEM_EXPORT_BACKGROUND_ROWS", default=10_000))
WHITENOISE_USE_FINDERS = DEBUG
if DEBUG:
    # WhiteNoise serves from the finders in debug mode but still expects the directory.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: a request without credentials answers 401 with "WWW-Authenticate: Token".
    # Tandem's tokens are hashed, named, expiring and revocable (tandem.core.tokens).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tandem.core.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tandem.core.api.permissions.ScopedPermission"],
    "DEFAULT_PAGINATION_CLASS": "tandem.core.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "tandem.core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "tandem.core.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tandem API",
    "DESCRIPTION": (
        "The partnership office for healthcare IT outsourcing. Every list is scoped to the "
        "engagements the caller holds a role in; objects outside that scope answer 404."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No call to swagger.io's online validator: the docs work with the network off.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Bodies are documented as JSON: form-encoded bodies (the browsable API's forms) work too,
    # but read an empty field as "not given", which a JSON schema cannot say.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Tags and operation ids per app ("core", "core_engagements_list"), not "v1".
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "tandem.core.choices.Role",
        "SideEnum": "tandem.core.choices.Side",
        "PhaseEnum": "tandem.core.choices.Phase",
        "OrganizationKindEnum": "tandem.core.choices.OrganizationKind",
        "EngagementKindEnum": "tandem.core.choices.EngagementKind",
        "SizeUnitEnum": "tandem.core.choices.SizeUnit",
        "AuditActionEnum": "tandem.core.choices.AuditAction",
        "AuditSourceEnum": "tandem.core.choices.AuditSource",
        "MeasuredSideEnum": "tandem.service.choices.MeasuredSide",
        # Sides of assignment groups: a model field and the bulk mapping's payload share it.
        "AssignmentGroupSideSideEnum": "tandem.service.choices.GroupSide",
    },
}

# --- background tasks ---------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": IMMEDIATE_BACKEND
        if TESTING and not env.boolean("TANDEM_TASKS_DB", default=False)
        else "django_tasks_db.DatabaseBackend"
    }
}
# Running background work without a heartbeat for this many seconds is taken for dead: it is
# marked failed and what it held is freed (tandem.core.tasks_recovery).
TANDEM_TASK_LEASE_SECONDS = max(2, env.integer("TANDEM_TASK_LEASE_SECONDS", default=60))

# --- tables -------------------------------------------------------------------------------
DJANGO_TABLES2_TEMPLATE = "htmx/table.html"
DJANGO_TABLES2_PAGE_RANGE = 8

LOG_LEVEL = env.string("TANDEM_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A 4xx (a 403 for a page someone may not see, a bad Host) is one line, never a traceback.
    "filters": {"client_errors": {"()": "tandem.core.errors.OneLineClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["client_errors"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers off (its debug console would print tracebacks again): its
        # records reach the one console above through the root logger.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "INFO"},
    },
}
