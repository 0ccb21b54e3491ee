"""Grassroots settings: one file, driven by environment variables.

Defaults give the embedded set-up (SQLite under var/, database task queue).
Production sets GRASSROOTS_ENV=production, DATABASE_URL, GRASSROOTS_SECRET_KEY
and GRASSROOTS_KEYS_FILE (see docs/operations.md).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GRASSROOTS_VAR_DIR", BASE_DIR / "var"))

ENV = os.environ.get("GRASSROOTS_ENV", "development")
PRODUCTION = ENV == "production"
DEBUG = os.environ.get("GRASSROOTS_DEBUG", "0" if PRODUCTION else "1") == "1"


def _secret_key() -> str:
    key = os.environ.get("GRASSROOTS_SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("GRASSROOTS_SECRET_KEY must be set in production")
    # Development and demo: a key generated once and kept under var/.
    from django.core.management.utils import get_random_secret_key

    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# The public address QR sheets encode (behind a reverse proxy the request's host may be internal).
SITE_URL = os.environ.get("GRASSROOTS_SITE_URL", "")
ALLOWED_HOSTS = [h for h in os.environ.get("GRASSROOTS_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
if not PRODUCTION:
    ALLOWED_HOSTS += ["testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "grassroots.core",
    "grassroots.audit",
    "grassroots.notify",
    "grassroots.places",
    "grassroots.accounts",
    "grassroots.registry",
    "grassroots.party",
    "grassroots.volunteers",
    "grassroots.cases",
    "grassroots.engage",
    "grassroots.estates",
    "grassroots.insights",
    "grassroots.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # see "security headers" below
    "grassroots.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "grassroots.accounts.middleware.ScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "grassroots.accounts.middleware.AbsoluteSessionMiddleware",  # passwords and sessions
    "grassroots.accounts.middleware.TwoFactorPolicyMiddleware",
    "grassroots.accounts.middleware.PasswordExpiryMiddleware",  # passwords and sessions
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "grassroots.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "grassroots" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "grassroots.accounts.context_processors.navigation",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'grassroots.sqlite3'}"),
        conn_max_age=int(os.environ.get("GRASSROOTS_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE: writers queue for the lock at BEGIN instead of failing
        # half-way through a transaction; WAL lets readers run beside a writer.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks (django.tasks API) ----------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("GRASSROOTS_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- cache ---
# Embedded default: memory of each process, enough for one web process. Several web processes
# (gunicorn workers, more machines) must share one cache, or each keeps its own copy of cached
# pages and counters: GRASSROOTS_CACHE_URL=redis://127.0.0.1:6379/0 (needs the `redis` package).
CACHE_URL = os.environ.get("GRASSROOTS_CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("GRASSROOTS_CACHE_KEY_PREFIX", "grassroots"),
            # A stalled Redis must fail a request in a second, not hold a worker until gunicorn kills it.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
elif CACHE_URL:
    raise ImproperlyConfigured("GRASSROOTS_CACHE_URL must be a redis://, rediss:// or unix:// URL")
else:
    # Django's default of 300 entries would evict rate-limit counters once ~150 clients are active
    # in a window (limits would loosen); quality figures per area are the other, few, entries.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "grassroots",
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }
# --- end cache ---

# --- Accounts, passwords, sessions, lockout -------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# 5 failed attempts lock the account name for 30 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "grassroots.accounts.views.locked_out"
AXES_VERBOSE = False
# Staff (every role but resident) must enrol in two-factor login (TOTP) before using the site.
GRASSROOTS_2FA_REQUIRED = os.environ.get("GRASSROOTS_2FA_REQUIRED", "1" if PRODUCTION else "0") == "1"
# Lock per account name, as 等保 asks. Locking per IP too would lock a whole street
# office behind one NAT address after five typos; per-IP rate limits belong in front.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# --- passwords and sessions ---
# Password policy profile (docs/operations.md, "Passwords and sessions"): "dengbao" (等保 level 3:
# >= 8 characters, 3 of 4 character classes, last 5 not reused, 90-day expiry) or "asvs" (OWASP
# ASVS L2: >= 12 characters, no composition rules, common/breached list, no expiry).
from grassroots.accounts.password_profiles import validators_for  # noqa: E402

GRASSROOTS_PASSWORD_PROFILE = os.environ.get("GRASSROOTS_PASSWORD_PROFILE", "dengbao")
# An extra local list of refused passwords (one a line, plain or .gz), e.g. from a breach corpus.
GRASSROOTS_PASSWORD_BLOCKLIST = os.environ.get("GRASSROOTS_PASSWORD_BLOCKLIST", "")
AUTH_PASSWORD_VALIDATORS = validators_for(GRASSROOTS_PASSWORD_PROFILE, blocklist_path=GRASSROOTS_PASSWORD_BLOCKLIST)
# Idle sessions end after 30 minutes: the cookie is renewed on every request.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
# And 12 hours after login whatever the activity (grassroots.accounts.middleware.AbsoluteSessionMiddleware).
GRASSROOTS_SESSION_ABSOLUTE_SECONDS = int(os.environ.get("GRASSROOTS_SESSION_ABSOLUTE_SECONDS", "43200"))
# --- end passwords and sessions ---
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION

# --- security headers ---
# Content-Security-Policy (django-csp): scripts and <style> blocks only from our origin or carrying
# the per-request nonce (`nonce="{{ request.csp_nonce }}"`); no inline handlers, no eval.
# style-src-attr allows style="" attributes: ECharts writes its tooltips as HTML with style
# attributes (markers, margins), and our templates draw progress bars with style="width: N%".
# Attribute styles cannot load anything (img-src/font-src stay 'self') nor select other elements.
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
# Browser features: the camera (photos on reports) and location (where a problem is) for our
# own pages only; everything else off (grassroots.core.middleware.SecurityHeadersMiddleware).
PERMISSIONS_POLICY = {
    "camera": ["self"],
    "geolocation": ["self"],
    "fullscreen": ["self"],
    "microphone": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "hid": [],
    "midi": [],
    "accelerometer": [],
    "gyroscope": [],
    "magnetometer": [],
    "display-capture": [],
    "autoplay": [],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Language and time ------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# zh-Hans shows dates as 2016年9月5日; accept that form back (see shared FINDINGS).
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y年%m月%d日", "%Y/%m/%d", "%Y%m%d"]

# --- Static files -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "grassroots" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Imports --------------------------------------------------------------------
IMPORT_MAX_BYTES = int(os.environ.get("GRASSROOTS_IMPORT_MAX_BYTES", 20 * 1024 * 1024))
IMPORT_MAX_ROWS = int(os.environ.get("GRASSROOTS_IMPORT_MAX_ROWS", 50_000))
# xlsx files are zip archives: refuse any that would inflate past this or by more than this ratio.
IMPORT_MAX_UNZIPPED_BYTES = int(os.environ.get("GRASSROOTS_IMPORT_MAX_UNZIPPED_BYTES", 200 * 1024 * 1024))
IMPORT_MAX_ZIP_RATIO = int(os.environ.get("GRASSROOTS_IMPORT_MAX_ZIP_RATIO", 100))
# Queue a record-linkage run after each finished import (registry/services/linking.py).
GRASSROOTS_LINK_AFTER_IMPORT = os.environ.get("GRASSROOTS_LINK_AFTER_IMPORT", "1") == "1"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Personal-data encryption ----------------------------------------------
# A JSON file with the AES-GCM data keys and the HMAC key for exact search.
# `manage.py init_keys` writes one; production mounts it from a secret store.
KEYS_FILE = Path(os.environ.get("GRASSROOTS_KEYS_FILE", VAR_DIR / "keys.json"))
# Or the same JSON in an environment variable (wins over the file; rotation then needs the file).
KEYS_JSON = os.environ.get("GRASSROOTS_KEYS_JSON", "")

# --- backup and restore ---
# The backup key (base64 of 32 bytes) is NOT a personal-data key: keep it away from the server.
# `manage.py backup --generate-key FILE` makes one (docs/operations.md, "Backup and restore").
BACKUP_KEY = os.environ.get("GRASSROOTS_BACKUP_KEY", "")
BACKUP_KEY_FILE = os.environ.get("GRASSROOTS_BACKUP_KEY_FILE", "")
BACKUP_DIR = Path(os.environ.get("GRASSROOTS_BACKUP_DIR", VAR_DIR / "backups"))

# --- audit retention ---
# Days to keep audit entries by class (grassroots/audit/retention.py), e.g.
# GRASSROOTS_AUDIT_RETENTION_DAYS="access=365,processing=1095,export=1825". Values below the legal
# minimums (access 180, processing and export 1095) make `manage.py audit_purge` refuse to run.
GRASSROOTS_AUDIT_RETENTION_DAYS = {
    key.strip(): value.strip()
    for key, _, value in (
        item.partition("=") for item in os.environ.get("GRASSROOTS_AUDIT_RETENTION_DAYS", "").split(",") if item.strip()
    )
}
# --- end audit retention ---

# --- Notifications (grassroots.notify) ----------------------------------------
# Default channel for notify() without one: "console" logs, and the outbox row is the in-app message.
NOTIFY_DEFAULT_CHANNEL = os.environ.get("GRASSROOTS_NOTIFY_DEFAULT_CHANNEL", "console")
# SMS gateway: HTTP POST of JSON; the API key goes in the named header.
NOTIFY_SMS_URL = os.environ.get("GRASSROOTS_NOTIFY_SMS_URL", "")
NOTIFY_SMS_API_KEY = os.environ.get("GRASSROOTS_NOTIFY_SMS_API_KEY", "")
NOTIFY_SMS_API_KEY_HEADER = os.environ.get("GRASSROOTS_NOTIFY_SMS_API_KEY_HEADER", "X-API-Key")
# Group robots: WeCom webhook URL; DingTalk webhook URL and its optional signing secret ("加签").
NOTIFY_WECOM_WEBHOOK_URL = os.environ.get("GRASSROOTS_NOTIFY_WECOM_WEBHOOK_URL", "")
NOTIFY_DINGTALK_WEBHOOK_URL = os.environ.get("GRASSROOTS_NOTIFY_DINGTALK_WEBHOOK_URL", "")
NOTIFY_DINGTALK_SECRET = os.environ.get("GRASSROOTS_NOTIFY_DINGTALK_SECRET", "")
NOTIFY_HTTP_TIMEOUT_SECONDS = float(os.environ.get("GRASSROOTS_NOTIFY_HTTP_TIMEOUT_SECONDS", "5"))
# Retries: delay = base * 2^(attempt-1), capped, times a random factor in [1-jitter, 1+jitter];
# after NOTIFY_MAX_ATTEMPTS attempts a row is "dead" (dead letter, for an operator).
NOTIFY_MAX_ATTEMPTS = int(os.environ.get("GRASSROOTS_NOTIFY_MAX_ATTEMPTS", "6"))
NOTIFY_BACKOFF_BASE_SECONDS = float(os.environ.get("GRASSROOTS_NOTIFY_BACKOFF_BASE_SECONDS", "30"))
NOTIFY_BACKOFF_MAX_SECONDS = float(os.environ.get("GRASSROOTS_NOTIFY_BACKOFF_MAX_SECONDS", "3600"))
NOTIFY_BACKOFF_JITTER = float(os.environ.get("GRASSROOTS_NOTIFY_BACKOFF_JITTER", "0.2"))
# A row left "sending" this long (a worker died mid-send) is claimed again.
NOTIFY_SENDING_TIMEOUT_SECONDS = float(os.environ.get("GRASSROOTS_NOTIFY_SENDING_TIMEOUT_SECONDS", "300"))
NOTIFY_BATCH_SIZE = int(os.environ.get("GRASSROOTS_NOTIFY_BATCH_SIZE", "100"))

# --- rate limits and SMS codes ---
# Per client IP (Open311 POSTs: per API key), counted in the default cache (share it between
# processes with GRASSROOTS_CACHE_URL): "count/seconds" pairs, comma-separated, all must hold;
# "off" disables one. Refusals are HTTP 429 (a Chinese page, or a JSON error for APIs).
GRASSROOTS_RATE_LIMITS = {
    "report": os.environ.get("GRASSROOTS_RATE_LIMIT_REPORT", "10/60,60/3600"),  # resident H5 and QR reports
    "open311": os.environ.get("GRASSROOTS_RATE_LIMIT_OPEN311", "30/60"),  # Open311 POST requests
    "login": os.environ.get("GRASSROOTS_RATE_LIMIT_LOGIN", "20/60"),  # password and SMS-code login POSTs
    "sms_send": os.environ.get("GRASSROOTS_RATE_LIMIT_SMS_SEND", "20/3600"),  # SMS code requests
    "propose": os.environ.get("GRASSROOTS_RATE_LIMIT_PROPOSE", "5/60,30/3600"),  # residents' topic proposals
}
# SMS login codes per number, counted from the database (exact, across processes): 1 a minute,
# 5 an hour, 10 a day.
GRASSROOTS_SMS_LIMITS = os.environ.get("GRASSROOTS_SMS_LIMITS", "1/60,5/3600,10/86400")
# The notify channel of SMS codes: "sms" (the gateway) once GRASSROOTS_NOTIFY_SMS_URL is set,
# else "console" (development: the code is logged when DEBUG is on).
GRASSROOTS_SMS_CODE_CHANNEL = os.environ.get("GRASSROOTS_SMS_CODE_CHANNEL", "sms" if NOTIFY_SMS_URL else "console")
# Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated),
# e.g. "127.0.0.1,10.0.0.0/8". Empty: the client is REMOTE_ADDR.
GRASSROOTS_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("GRASSROOTS_TRUSTED_PROXIES", "").split(",") if p.strip()
]

# --- Logging (English, for operators) ----------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GRASSROOTS_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # __Host- cookies: the browser keeps them only if Secure, Path=/ and without Domain, so a
    # sibling subdomain cannot plant or overwrite them. Needs HTTPS, hence production only.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    # Only the server reads the CSRF cookie (forms carry the token), so scripts need not.
    CSRF_COOKIE_HTTPONLY = True
