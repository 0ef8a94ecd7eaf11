"""Settings for the feedback-triage app.

Everything that differs between machines comes from the environment (one
``environ.Env``). The defaults run out of the box: SQLite for the database and
kombu's SQLAlchemy transport on a SQLite file for the Celery broker, so a fresh
checkout runs web server, worker and beat with no other server. Production sets
DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis or RabbitMQ).
"""
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The fallback key only exists so a development checkout runs (DJANGO_DEBUG=1, as bin/run sets);
# without DEBUG the hardening block at the end refuses to start unless DJANGO_SECRET_KEY is set.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-dev-key-set-DJANGO_SECRET_KEY-in-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "feedback",
    "issues",
    "issues.impact",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.errors.RejectNulBytesMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker and the web server write the same file: wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 30, "transaction_mode": "IMMEDIATE"})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve straight from the finders too, so the app works before (or without) collectstatic.
WHITENOISE_USE_FINDERS = True
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end libraries come from npm (package.json) and are served from node_modules.
NODE_MODULES_DIR = BASE_DIR / "node_modules"
if NODE_MODULES_DIR.exists():
    STATICFILES_DIRS.append(("vendor", NODE_MODULES_DIR))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="triage@example.com")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Feedback triage API",
    "DESCRIPTION": "Tickets, classification and the high-frequency issue library.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ---
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Fail fast when the broker is down: the ticket is saved anyway and the sweeper enqueues it later.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=0.25)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes the database connection before and after every task unless this is
# set: a new PostgreSQL connection cost 16 % of a single-ticket triage task. With it, the fixup
# closes them every this many tasks, and config.celery closes a connection that broke or outlived
# DATABASE_CONN_MAX_AGE before each task (as Django does around requests).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=500)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Unacknowledged tasks (acks_late) return to the queue after this long if their worker died.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600)}
else:
    # kombu's SQLAlchemy transport hands every option to create_engine, so pass none.
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
# Two queues by urgency, each with its own workers: live triage never waits behind an hour-long
# import, a retrain or a nightly recompute. Tasks not listed under BULK go to the triage queue.
CELERY_TRIAGE_QUEUE = env("CELERY_TRIAGE_QUEUE", default="triage")
CELERY_BULK_QUEUE = env("CELERY_BULK_QUEUE", default="bulk")
CELERY_TASK_DEFAULT_QUEUE = CELERY_TRIAGE_QUEUE
CELERY_BULK_TASKS = (
    "feedback.run_import",
    "feedback.train_model",
    "impact.run_sales_import",
    "impact.refresh_after_sales",
    "impact.refresh_recent",
    "impact.complete_measurements",
    "impact.nightly",
    "issues.reroute_open",
    "issues.refresh_counts",
    "issues.refresh_keywords",
    "issues.refresh_subthemes",
    "issues.reconcile",
    "issues.send_daily_report",
)
CELERY_TASK_ROUTES = {name: {"queue": CELERY_BULK_QUEUE} for name in CELERY_BULK_TASKS}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "sweep-untriaged-tickets": {"task": "feedback.sweep_untriaged", "schedule": 120.0},
    # Imports whose worker died (feedback/imports/framework.py: job_execute).
    "sweep-imports": {"task": "feedback.sweep_imports", "schedule": 300.0},
    "sweep-sales-imports": {"task": "impact.sweep_sales_imports", "schedule": 300.0},
    "nightly-retrain": {"task": "feedback.train_model", "schedule": crontab(hour=2, minute=30)},
    "impact-refresh-recent": {"task": "impact.refresh_recent", "schedule": 600.0},
    "impact-nightly": {"task": "impact.nightly", "schedule": crontab(hour=3, minute=15)},
    # The issue library (issues/tasks.py).
    "issues-refresh-counts": {"task": "issues.refresh_counts", "schedule": 600.0},
    "issues-flag-overdue": {"task": "issues.flag_overdue", "schedule": 900.0},
    "issues-refresh-keywords": {"task": "issues.refresh_keywords", "schedule": 1800.0},
    "issues-sweep-deliveries": {"task": "issues.sweep_deliveries", "schedule": 600.0},
    "issues-refresh-subthemes": {"task": "issues.refresh_subthemes", "schedule": crontab(hour=3, minute=30)},
    "issues-reconcile": {"task": "issues.reconcile", "schedule": crontab(hour=4, minute=15)},
    "issues-daily-report": {"task": "issues.send_daily_report", "schedule": crontab(hour=8, minute=0)},
}

# --- Impact verdicts ---
# Festival calendar the verdicts name when a fix's windows straddle one: a JSON list of
# {"name_zh": "双11", "name_en": "Singles' Day", "start": "10-20", "end": "11-30"} (MM-DD recurs every
# year, YYYY-MM-DD is one date). Unset: the built-in 双11, 618 and 春节 (issues/impact/festivals.py).
if env.str("IMPACT_FESTIVALS", default=""):
    IMPACT_FESTIVALS = env.json("IMPACT_FESTIVALS")

# --- The triage model ---
FEEDBACK_MODEL_DIR = Path(env("FEEDBACK_MODEL_DIR", default=str(VAR_DIR / "models")))
# Below this confidence a prediction goes to the agents' review queue instead of being applied.
TRIAGE_CONFIDENCE_THRESHOLD = env.float("TRIAGE_CONFIDENCE_THRESHOLD", default=0.55)
# Optional per-category overrides, e.g. TRIAGE_CATEGORY_THRESHOLDS=other=0.7,price=0.5
TRIAGE_CATEGORY_THRESHOLDS = {k: float(v) for k, v in env.dict("TRIAGE_CATEGORY_THRESHOLDS", default={}).items()}
# Admins override per category on the model page (database, first in precedence); each process
# re-reads those overrides at most this often, so a change reaches the workers within this many seconds.
TRIAGE_THRESHOLD_CACHE_SECONDS = env.float("TRIAGE_THRESHOLD_CACHE_SECONDS", default=30)
# Tickets saved but not triaged after this many seconds are re-enqueued by the sweeper.
TRIAGE_SWEEP_AFTER_SECONDS = env.int("TRIAGE_SWEEP_AFTER_SECONDS", default=180)
# Tickets filed one by one are triaged together: the first of a window schedules one run, this many
# seconds later, that takes every ticket waiting (up to TRIAGE_PENDING_BATCH; more start another run).
TRIAGE_COALESCE_SECONDS = env.float("TRIAGE_COALESCE_SECONDS", default=0.5)
TRIAGE_PENDING_BATCH = env.int("TRIAGE_PENDING_BATCH", default=200)
# The cache alias holding the window's key: shared (Redis) coalesces across web processes, the
# default per-process cache coalesces within each one.
TRIAGE_COALESCE_CACHE = env("TRIAGE_COALESCE_CACHE", default="default")


def _from_environment(defaults: dict) -> dict:
    """Read every name in ``defaults`` from the environment, typed like its default.

    Numbers and booleans as themselves, lists comma-separated, dicts as JSON
    (for example ``ISSUE_SLA_HOURS='{"P1": {"acknowledge": 2, "resolve": 48}, ...}'``).
    A name not in the environment keeps the app's default.
    """
    values = {}
    for name, default in defaults.items():
        if name not in env.ENVIRON:
            continue
        if isinstance(default, bool):
            values[name] = env.bool(name)
        elif isinstance(default, int):
            values[name] = env.int(name)
        elif isinstance(default, float):
            values[name] = env.float(name)
        elif isinstance(default, list):
            values[name] = env.list(name)
        elif isinstance(default, dict):
            # Keys not given keep their default: ISSUE_SLA_HOURS='{"P1": ...}' leaves P2-P4 alone.
            values[name] = {**default, **env.json(name)}
        else:
            values[name] = env.str(name)
    return values


# The issue library's and impact measurement's tunables (defaults and meaning in issues/conf.py and
# issues/impact/conf.py): each may be set from the environment under its own name, e.g.
# ISSUE_SITE_URL=https://triage.example.com, ISSUE_REPORT_RECIPIENTS=a@x.cn,b@x.cn, ISSUE_WEBHOOK_TIMEOUT=3.
from issues.conf import DEFAULTS as _ISSUE_DEFAULTS  # noqa: E402 - plain dicts, no Django access
from issues.impact.conf import DEFAULTS as _IMPACT_DEFAULTS  # noqa: E402

globals().update(_from_environment(_ISSUE_DEFAULTS))
globals().update(_from_environment(_IMPACT_DEFAULTS))

TICKET_TEXT_MAX_LENGTH = 5000
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
API_BATCH_MAX = 1000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"jieba": {"level": "WARNING"}},
}


# --- Hardening (issue 12): secrets, HTTPS, sessions, logins, errors ---
# A public development key in production lets anyone forge sessions and password-reset links, so a
# server that is not in DEBUG refuses to start without its own key instead of falling back silently.
if not DEBUG and not env.str("DJANGO_SECRET_KEY", default=""):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG=0 the app refuses to run on the public development "
        "key: set DJANGO_SECRET_KEY to a long random string (python -c 'import secrets; "
        "print(secrets.token_urlsafe(50))'), or set DJANGO_DEBUG=1 on a development machine."
    )
# HTTPS: off by default so a checkout runs over plain HTTP; production behind TLS turns them on
# (README, "Production"). HSTS cannot be undone from the server once browsers have seen it.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# Behind a TLS-terminating proxy, e.g. DJANGO_SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO=https.
# Only set it when the proxy always overwrites that header, or clients can claim HTTPS themselves.
_proxy_ssl_header = env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header.split("=", 1)) if "=" in _proxy_ssl_header else None
# Session length in seconds (default two weeks, Django's own default).
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=14 * 24 * 3600)
# drf-spectacular names choice sets by field name; these say which is which instead of a hash suffix.
# Every API error is DRF's JSON (config/errors.py), never an HTML page.
REST_FRAMEWORK["EXCEPTION_HANDLER"] = "config.errors.api_exception_handler"
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "config.schema.AutoSchema"  # documents those errors too
# The API speaks JSON (a form post cannot say null or a list of numbers, so the same request meant
# different things by content type); only the token endpoint also takes a form.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["rest_framework.parsers.JSONParser"]
# Request bodies get their own components, so they can say what a request must hold (minLength: 1
# for fields that refuse blanks) without read-only fields.
SPECTACULAR_SETTINGS["COMPONENT_SPLIT_REQUEST"] = True
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "feedback.api.schema.codes_and_limits_hook",
]
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "IssueStatusEnum": "issues.models.issue.IssueStatus",
    "IssueTransitionStatusEnum": "issues.api.serializers.TRANSITION_STATUSES",
    "IssuePriorityEnum": "issues.models.issue.Priority",
    "SubThemeStatusEnum": "issues.models.subtheme.SubThemeStatus",
    "DeliveryStatusEnum": "issues.models.notification.DeliveryStatus",
    "ImportJobStatusEnum": "feedback.models.ImportJob.Status",
    "ImpactStatusEnum": "issues.impact.models.ImpactStatus",
    "CategoryCodeEnum": "feedback.api.schema.category_codes",
}

# Brute force (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username (from
# anywhere) or from one address (for any username), the login page and the token endpoint refuse
# that username or address for LOGIN_LOCKOUT_MINUTES. Attempts are rows in the database, so every
# web worker sees the same count. A correct password resets the count.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # its start-up banner on every process; failures are still logged
# The lock lasts LOGIN_LOCKOUT_MINUTES from the last counted failure; a person retrying during it
# does not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# The client address comes from REMOTE_ADDR only: X-Forwarded-For is written by the client unless a
# proxy overwrites it. Behind a proxy that does, set LOGIN_CLIENT_IP_HEADERS=HTTP_X_FORWARDED_FOR.
AXES_IPWARE_META_PRECEDENCE_ORDER = env.list("LOGIN_CLIENT_IP_HEADERS", default=["REMOTE_ADDR"])
# API tokens expire (accounts/tokens.py); the token endpoint then issues a new one, and users revoke
# theirs on the account page (/accounts/me/).
API_TOKEN_TTL = timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=7 * 24))
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "accounts.tokens.ExpiringTokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]

# Broker outages (issue 12): a web request never waits for the broker. Publishing tries one
# connection, briefly, and gives up (the ticket or upload is saved; the sweepers send it later):
# kombu's default is to retry for two seconds, which stalled every request during an outage.
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS.update({
        "socket_connect_timeout": env.float("CELERY_BROKER_SOCKET_CONNECT_TIMEOUT", default=0.25),
        "max_retries": 0,
        "interval_start": 0,
    })
# Uploads saved while the broker was down are sent by these sweepers once it is back.
IMPORT_SWEEP_AFTER_SECONDS = env.int("IMPORT_SWEEP_AFTER_SECONDS", default=180)
CELERY_BEAT_SCHEDULE["feedback-sweep-queued-imports"] = {"task": "feedback.sweep_queued_imports", "schedule": 120.0}
CELERY_BEAT_SCHEDULE["impact-sweep-queued-imports"] = {"task": "impact.sweep_queued_imports", "schedule": 120.0}

# Content-Security-Policy (config/security.py): scripts and styles only from this site. Set
# DJANGO_CONTENT_SECURITY_POLICY to change it (empty: no header), ..._REPORT_ONLY=1 to try a change.
CONTENT_SECURITY_POLICY = env.str("DJANGO_CONTENT_SECURITY_POLICY", default=(
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
))
CONTENT_SECURITY_POLICY_REPORT_ONLY = env.bool("DJANGO_CONTENT_SECURITY_POLICY_REPORT_ONLY", default=False)
MIDDLEWARE.insert(1, "config.security.ContentSecurityPolicyMiddleware")
