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
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "grassroots.accounts.middleware.ScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "grassroots.accounts.middleware.TwoFactorPolicyMiddleware",
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

# --- Accounts, passwords, sessions, lockout -------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
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
# Idle sessions end after 30 minutes: the cookie is renewed on every request.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION

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
    SECURE_CONTENT_TYPE_NOSNIFF = True
