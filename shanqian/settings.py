"""
Settings for 闪签云, read from the environment (SPEC §2).

The embedded default (no variables set) is a development setup: SQLite under
``var/``, local-memory cache, media under ``var/media/``, fake WeChat and
console SMS. ``DJANGO_DEBUG=0`` switches to production rules: ``SECRET_KEY``
is required and the fake gateways are refused.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

_DEV_SECRET_KEY = "django-insecure-dev-only-shanqian-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY 未设置：生产模式（DJANGO_DEBUG=0）必须提供 SECRET_KEY。")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "shanqian.apps.ShanqianAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "captcha",
    "axes",
    "csp",
    "django_prometheus",
    "shanqian.apps.ShanqianConfig",
    "dictionaries",
    "contracts",
    "employees",
    "signing",
    "shanqian.demo.apps.DemoConfig",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "shanqian.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "shanqian.middleware.ApiClientMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After authentication: turns a locked-out admin login into shanqian.admin_guard's 429 page.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Innermost, so its process_exception answers an outage before anything turns it into a 500.
    "shanqian.faults.OutageMiddleware",
]

ROOT_URLCONF = "shanqian.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "shanqian.wsgi.application"

# --- Database ---------------------------------------------------------------

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    # PyMySQL stands in for mysqlclient so no C client library is needed.
    import pymysql

    pymysql.version_info = (2, 2, 7, "final", 0)
    pymysql.install_as_MySQLdb()
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("charset", "utf8mb4")
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "SET sql_mode='STRICT_TRANS_TABLES'")
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A persistent connection killed under us (failover, pg_terminate_backend) is noticed before the
# next request uses it, instead of failing that request (issue 15, finding 7).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=True)
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0 if DEBUG else 60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "shanqian.AdminUser"

# --- Cache --------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
from redis.backoff import NoBackoff as _NoBackoff  # noqa: E402
from redis.exceptions import ConnectionError as _RedisConnectionError  # noqa: E402
from redis.retry import Retry as _RedisRetry  # noqa: E402

# An unreachable or frozen Redis must cost a fraction of a second, never a worker for 5–10 s
# (shanqian.cache: timeouts, then fail fast for REDIS_RETRY_AFTER seconds; 503/50300).
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)
REDIS_RETRY_AFTER = env.float("REDIS_RETRY_AFTER", default=0.5)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "shanqian.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="shanqian"),
            "OPTIONS": {
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                # A pooled connection that died with a restarted Redis is replaced at once (one
                # immediate retry on a connection error; a timeout — a frozen Redis — is not retried).
                "retry": _RedisRetry(_NoBackoff(), 1),
                "retry_on_error": [_RedisConnectionError],
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "shanqian.cache.LocMemCache", "LOCATION": "shanqian"}}

# --- Auth, i18n ------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media ----------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Media is never served publicly: uploads and contracts go out through signed,
# expiring URLs (shanqian.storage), so there is no MEDIA_URL route.
MEDIA_URL = "/media/"

STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="filesystem")  # filesystem | s3
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME", default="shanqian"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATICFILES_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploads: Django caps form fields but not files, so the API caps both itself.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=5 * 1024 * 1024)
# Purpose-fit (issue 15, finding 4): an ID-card photo or a signature needs a few megapixels.
# 16 MP (4096×4096) still takes a 4624×3468 phone photo; what is stored is at most UPLOAD_MAX_SIDE
# pixels on its long side, and at most UPLOAD_DECODE_CONCURRENCY decodes run at once per process.
UPLOAD_MAX_PIXELS = env.int("UPLOAD_MAX_PIXELS", default=4096 * 4096)
UPLOAD_MAX_PIXELS_PNG = env.int("UPLOAD_MAX_PIXELS_PNG", default=12_000_000)
UPLOAD_MAX_PIXELS_WEBP = env.int("UPLOAD_MAX_PIXELS_WEBP", default=2048 * 1536)
UPLOAD_MAX_SIDE = env.int("UPLOAD_MAX_SIDE", default=2560)
UPLOAD_DECODE_CONCURRENCY = env.int("UPLOAD_DECODE_CONCURRENCY", default=1)
UPLOAD_DECODE_WAIT = env.float("UPLOAD_DECODE_WAIT", default=10.0)
UPLOAD_URL_TTL = env.int("UPLOAD_URL_TTL", default=3600)
# Largest request body accepted under /api (an upload plus multipart overhead).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=UPLOAD_MAX_BYTES + 256 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- Client identity and proxies ----------------------------------------------

TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- REST framework ------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["shanqian.renderers.EnvelopeRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "shanqian.parsers.JSONParser",
        "shanqian.parsers.FormParser",
        "shanqian.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": ["employees.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "shanqian.renderers.LenientContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "shanqian.pagination.EnvelopePagination",
    "PAGE_SIZE": 10,
    "EXCEPTION_HANDLER": "shanqian.faults.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("THROTTLE_LOGIN", default="30/min"),
        "captcha": env.str("THROTTLE_CAPTCHA", default="30/min"),
        # Requests to /api/verifycode per client IP, before the captcha and the SMS send limits.
        "verifycode": env.str("THROTTLE_VERIFYCODE", default="20/min"),
        "upload": env.str("THROTTLE_UPLOAD", default="60/hour"),
        "sign": env.str("THROTTLE_SIGN", default="20/hour"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "闪签云 1.0 小程序接口",
    "DESCRIPTION": (
        "闪签云小程序 API。所有 /api 请求须带 `X-platform-code` 请求头；除登录、图形验证码、短信验证码外须带 "
        "`X-auth-token`。响应统一为 `{status, msg, data, error_code}`，status 为 0 表示成功。"
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api",
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shanqian.schema.envelope_postprocessing_hook",
    ],
    # One name for the status enum wherever it appears (status, from_status, to_status).
    "ENUM_NAME_OVERRIDES": {"SignStatusEnum": "signing.models.SignStatus"},
}

# --- Tokens, captcha, SMS, WeChat ---------------------------------------------------

SESSION_TOKEN_TTL = timedelta(days=env.int("SESSION_TOKEN_TTL_DAYS", default=30))
# Live session tokens a mini-program user may hold (one per device); a new login revokes the oldest.
SESSION_TOKENS_PER_USER = env.int("SESSION_TOKENS_PER_USER", default=5)
# Seconds a resolved token stays in the cache (employees.tokens); only with a shared cache, since
# revocation must reach every instance. 0 turns it off.
TOKEN_CACHE_TTL = env.int("TOKEN_CACHE_TTL", default=60 if REDIS_URL else 0)

# Seconds each process memoises an enabled platform in front of the shared cache (shanqian.platforms):
# the bound on how long another instance keeps accepting a platform after staff disable it. 0 turns it off.
PLATFORM_MEMO_SECONDS = env.int("PLATFORM_MEMO_SECONDS", default=2)

CAPTCHA_TEST_MODE = DEBUG and env.bool("CAPTCHA_TEST_MODE", default=False)
CAPTCHA_LENGTH = 4
CAPTCHA_CHALLENGE_FUNCT = "employees.captcha.secure_char_challenge"
CAPTCHA_TIMEOUT = 5  # minutes
CAPTCHA_IMAGE_SIZE = (120, 40)

WECHAT_BACKEND = env.str("WECHAT_BACKEND", default="fake" if DEBUG else "wechat")
WECHAT_API_BASE = env.str("WECHAT_API_BASE", default="https://api.weixin.qq.com")
WECHAT_TIMEOUT = (env.float("WECHAT_CONNECT_TIMEOUT", default=3.0), env.float("WECHAT_READ_TIMEOUT", default=5.0))

SMS_BACKEND = env.str("SMS_BACKEND", default="console" if DEBUG else "aliyun")
SMS_FILE_PATH = env.path("SMS_FILE_PATH", default=str(VAR_DIR / "sms.jsonl"))
SMS_TIMEOUT = (env.float("SMS_CONNECT_TIMEOUT", default=3.0), env.float("SMS_READ_TIMEOUT", default=5.0))
SMS_CODE_TTL = env.int("SMS_CODE_TTL", default=300)
SMS_CODE_MAX_TRIES = env.int("SMS_CODE_MAX_TRIES", default=5)
SMS_PHONE_INTERVAL = env.int("SMS_PHONE_INTERVAL", default=60)
SMS_PHONE_DAILY_LIMIT = env.int("SMS_PHONE_DAILY_LIMIT", default=10)
SMS_IP_HOURLY_LIMIT = env.int("SMS_IP_HOURLY_LIMIT", default=20)
SMS_ALIYUN = {
    "ACCESS_KEY_ID": env.str("SMS_ALIYUN_ACCESS_KEY_ID", default=""),
    "ACCESS_KEY_SECRET": env.str("SMS_ALIYUN_ACCESS_KEY_SECRET", default=""),
    "SIGN_NAME": env.str("SMS_ALIYUN_SIGN_NAME", default=""),
    "TEMPLATE_CODE": env.str("SMS_ALIYUN_TEMPLATE_CODE", default=""),
    "ENDPOINT": env.str("SMS_ALIYUN_ENDPOINT", default="https://dysmsapi.aliyuncs.com/"),
}
SMS_TENCENT = {
    "SECRET_ID": env.str("SMS_TENCENT_SECRET_ID", default=""),
    "SECRET_KEY": env.str("SMS_TENCENT_SECRET_KEY", default=""),
    "SDK_APP_ID": env.str("SMS_TENCENT_SDK_APP_ID", default=""),
    "SIGN_NAME": env.str("SMS_TENCENT_SIGN_NAME", default=""),
    "TEMPLATE_ID": env.str("SMS_TENCENT_TEMPLATE_ID", default=""),
    "REGION": env.str("SMS_TENCENT_REGION", default="ap-guangzhou"),
    "ENDPOINT": env.str("SMS_TENCENT_ENDPOINT", default="https://sms.tencentcloudapi.com/"),
}

# --- Signing -------------------------------------------------------------------------

SIGN_REQUIRE_REALNAME = env.bool("SIGN_REQUIRE_REALNAME", default=True)
REALNAME_BACKEND = env.str("REALNAME_BACKEND", default="manual")  # manual | provider (employees.realname_providers)
REALNAME_PROVIDER_URL = env.str("REALNAME_PROVIDER_URL", default="")
REALNAME_PROVIDER_TOKEN = env.str("REALNAME_PROVIDER_TOKEN", default="")
REALNAME_PROVIDER_TIMEOUT = (
    env.float("REALNAME_PROVIDER_CONNECT_TIMEOUT", default=3.0),
    env.float("REALNAME_PROVIDER_READ_TIMEOUT", default=10.0),
)
# The first generation's single platform certificate: files sealed with it still verify (verification only).
SIGNING_CERT_PATH = env.str("SIGNING_CERT_PATH", default=str(VAR_DIR / "signing" / "cert.pem"))
SIGNING_KEY_PASSPHRASE = env.str("SIGNING_KEY_PASSPHRASE", default="")
PDF_CJK_FONT = env.str("PDF_CJK_FONT", default="")

# --- Personal information (SPEC §13): field encryption, consent, retention ----------------------
# AES-256-GCM keys for ID numbers and ID-card photos at rest (shanqian.fieldcrypt): "<id>:<base64 32 bytes>",
# comma-separated, the first current. The blind index (uniqueness, exact search) has its own key.
# The development keys below are public, so they exist only under DEBUG (the system check refuses them
# otherwise); production refuses to start without real ones.
_DEV_FIELD_ENCRYPTION_KEYS = "dev:VnxzVP6rqZiHKb2GpbMCHzaD/SPiASc8FTciyLrt9Ko="
_DEV_FIELD_BLIND_INDEX_KEY = "kU8lPXkOfrDQJZ2+ILJdDiY7c7kC/GBF4BnsnDiOAVU="
FIELD_ENCRYPTION_KEYS = env.str("FIELD_ENCRYPTION_KEYS", default="")
FIELD_BLIND_INDEX_KEY = env.str("FIELD_BLIND_INDEX_KEY", default="")
if not FIELD_ENCRYPTION_KEYS or not FIELD_BLIND_INDEX_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS 或 FIELD_BLIND_INDEX_KEY 未设置：生产模式（DJANGO_DEBUG=0）必须提供字段加密密钥"
            "（生成：python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'）。"
        )
    FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or _DEV_FIELD_ENCRYPTION_KEYS
    FIELD_BLIND_INDEX_KEY = FIELD_BLIND_INDEX_KEY or _DEV_FIELD_BLIND_INDEX_KEY
# Rows per transaction of manage.py reencrypt_fields.
FIELD_REENCRYPT_BATCH = env.int("FIELD_REENCRYPT_BATCH", default=1000)
# Days after an application ended 已驳回/已取消 (and no contract) before the applicant's resume,
# uploads and verification data are purged (purge_expired, SPEC §13), in batches of this many people.
APPLICANT_RETENTION_DAYS = env.int("APPLICANT_RETENTION_DAYS", default=180)
APPLICANT_PURGE_BATCH = env.int("APPLICANT_PURGE_BATCH", default=200)
# Calendar days an upload (POST /api/image) nothing refers to is kept before purge_expired deletes
# it, row and file (abandoned ID photos and signatures), in batches of this many uploads.
UPLOAD_UNUSED_RETENTION_DAYS = env.int("UPLOAD_UNUSED_RETENTION_DAYS", default=7)
UPLOAD_PURGE_BATCH = env.int("UPLOAD_PURGE_BATCH", default=500)

# --- PKI, trusted time and evidence (SPEC §10; signing.pki, signing.sealing, signing.evidence) -----
# Who certifies signers' keys: "local" (the project's own hierarchy, manage.py pki_init) or the
# dotted path of a licensed CA's backend class (docs/pki.md states the contract).
SIGNING_CA_BACKEND = env.str("SIGNING_CA_BACKEND", default="local")
# The public prefix of /pki/…: every certificate names its CRL and issuer under it, forever.
SIGNING_PKI_BASE_URL = env.str("SIGNING_PKI_BASE_URL", default="http://127.0.0.1:8000")
SIGNING_PKI_ORGANIZATION = env.str("SIGNING_PKI_ORGANIZATION", default="闪签云")
SIGNING_EVENT_CERT_MINUTES = env.int("SIGNING_EVENT_CERT_MINUTES", default=10)
SIGNING_COMPANY_CERT_DAYS = env.int("SIGNING_COMPANY_CERT_DAYS", default=730)
SIGNING_CRL_VALIDITY_DAYS = env.int("SIGNING_CRL_VALIDITY_DAYS", default=7)
SIGNING_CRL_REFRESH_HOURS = env.int("SIGNING_CRL_REFRESH_HOURS", default=24)
# Key of the keyed hash (HMAC-SHA256) put in event certificates instead of the ID number;
# derived from SECRET_KEY when unset.
SIGNING_SUBJECT_HASH_KEY = env.str("SIGNING_SUBJECT_HASH_KEY", default="")
# RFC 3161 time-stamping authority: a URL, "none" (no timestamps: does not meet the 指引), or unset
# (the development TSA under DEBUG; a system check error with DEBUG off).
SIGNING_TSA_URL = env.str("SIGNING_TSA_URL", default="")
SIGNING_TSA_USERNAME = env.str("SIGNING_TSA_USERNAME", default="")
SIGNING_TSA_PASSWORD = env.str("SIGNING_TSA_PASSWORD", default="")
SIGNING_TSA_TIMEOUT = env.float("SIGNING_TSA_TIMEOUT", default=10.0)
# PEM bundle of the trust anchors of an external TSA (its tokens are verified against them).
SIGNING_TSA_TRUST_ROOTS = env.str("SIGNING_TSA_TRUST_ROOTS", default="")

# --- Hardening (issue 15): admin brute force, CSP, metrics --------------------------------

# Back-office login (shanqian.admin_guard, django-axes): lock a username and, separately, an IP after
# this many failures within the cool-off window, counted in the database (shared by every instance).
ADMIN_LOGIN_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
ADMIN_LOGIN_COOLOFF_MINUTES = env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=15)
AUTHENTICATION_BACKENDS = ["shanqian.admin_guard.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = ADMIN_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=ADMIN_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "shanqian.admin_guard.lockout_response"
AXES_CLIENT_IP_CALLABLE = "shanqian.admin_guard.axes_client_ip"
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False  # axes' own log lines name the username and IP of every attempt

# Content-Security-Policy on every response (django-csp): scripts only from our own origin, never
# inline — the admin's and Swagger UI's scripts are files. Inline *styles* are still allowed: the
# admin's badges and photo tables carry style attributes. Images may also come from the media
# origin when files are served from object storage (CSP_MEDIA_ORIGINS, comma list).
_CSP_MEDIA = env.list("CSP_MEDIA_ORIGINS", default=[])
if not _CSP_MEDIA and STORAGE_BACKEND == "s3" and env.str("AWS_S3_ENDPOINT_URL", default=""):
    from urllib.parse import urlsplit as _urlsplit

    _endpoint = _urlsplit(env.str("AWS_S3_ENDPOINT_URL"))
    _CSP_MEDIA = [f"{_endpoint.scheme}://{_endpoint.netloc}"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", *_CSP_MEDIA],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Prometheus metrics at /metrics (shanqian.metrics): loopback scrapers, or a bearer token.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
PROMETHEUS_EXPORT_MIGRATIONS = False

# --- Background work: Celery, the outbox, notifications, webhooks, bulk jobs (SPEC §11) ---------

# The broker. Unset (the embedded default) → no broker: tasks run eagerly, in-process, after the
# transaction that queued them commits (shanqian.celery.dispatch), so `make run` needs nothing more.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# A task is acknowledged after it ran, one at a time per worker process: a killed worker loses
# nothing it had taken (and the outbox re-drive covers whatever the broker itself loses).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
# A request that queues a task while the broker is down waits at most ~1 s, then goes on: the
# outbox row is committed and the re-drive delivers it once the broker is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TIMEZONE = TIME_ZONE
# The queue web processes send to and workers take from (tests and benchmarks use one of their own).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_BEAT_SCHEDULE_FILENAME = env.str("CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celerybeat-schedule"))
# Periodic work (Celery beat): one line per task — name: {"task": dotted name, "schedule": seconds or crontab}.
CELERY_BEAT_SCHEDULE = {
    "outbox-redrive": {
        "task": "shanqian.tasks.outbox_redrive",
        "schedule": env.float("OUTBOX_REDRIVE_SECONDS", default=30.0),
    },
}

# The outbox (shanqian.outbox): a row still pending this long after it was due is re-queued.
OUTBOX_REDRIVE_GRACE = env.int("OUTBOX_REDRIVE_GRACE", default=30)
OUTBOX_REDRIVE_BATCH = env.int("OUTBOX_REDRIVE_BATCH", default=500)
# How long a worker holds a claimed row before another may take it over (longer than any send).
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=120)

# Bulk actions in the back office (shanqian.bulk): more rows than this run as a background job.
BULK_INLINE_LIMIT = env.int("BULK_INLINE_LIMIT", default=20)
BULK_JOB_CONCURRENCY = env.int("BULK_JOB_CONCURRENCY", default=4)
BULK_JOB_LEASE_SECONDS = env.int("BULK_JOB_LEASE_SECONDS", default=120)

# Worker notices: with no unused subscribe acceptance (or WeChat refusing), send an SMS instead.
NOTIFY_SMS_FALLBACK = env.bool("NOTIFY_SMS_FALLBACK", default=True)
# Per notice kind, the template code (Aliyun) or template id (Tencent) of the SMS notice; JSON.
SMS_NOTICE_TEMPLATES = env.json("SMS_NOTICE_TEMPLATES", default={})
# The back office's address, for links in HR emails and 企业微信 messages.
BACKOFFICE_BASE_URL = env.str("BACKOFFICE_BASE_URL", default="http://127.0.0.1:8000")
WECOM_TIMEOUT = (env.float("WECOM_CONNECT_TIMEOUT", default=3.0), env.float("WECOM_READ_TIMEOUT", default=5.0))

# Webhooks: private, loopback and link-local targets are refused unless this is on (default: DEBUG).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3.0)
# The whole attempt (connect, send, the receiver's answer) never takes longer than this.
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)

# Email to HR handlers (Django's email backend): the console under DEBUG, SMTP otherwise.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="闪签云 <noreply@localhost>")
# Where EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend writes one file per message.
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))

# --- The contract ledger (SPEC §12; signing.ledger) ---------------------------------------------

# Contracts ending within this many days → the handler and the worker are told (once per contract).
CONTRACT_EXPIRY_NOTICE_DAYS = env.int("CONTRACT_EXPIRY_NOTICE_DAYS", default=30)
# Probation ending within this many days → the handler is told (once per contract).
CONTRACT_PROBATION_NOTICE_DAYS = env.int("CONTRACT_PROBATION_NOTICE_DAYS", default=7)
# A contract's files, evidence and the personal data they need are kept at least this many years
# after it ended (劳动合同法 art. 50: at least two); nothing purges them sooner.
CONTRACT_RETENTION_YEARS = env.int("CONTRACT_RETENTION_YEARS", default=2)
if CONTRACT_RETENTION_YEARS < 2:
    raise ImproperlyConfigured("CONTRACT_RETENTION_YEARS 不能小于 2（劳动合同法第五十条：至少保存二年）。")
# The daily runs (Celery beat, Asia/Shanghai): expiry of ended terms, then the reminders.
CELERY_BEAT_SCHEDULE.update(
    {
        "ledger-daily": {
            "task": "signing.ledger.tasks.ledger_daily",
            "schedule": crontab(hour=env.int("LEDGER_DAILY_HOUR", default=8), minute=0),
        },
        # Expired sessions and codes, applicants past APPLICANT_RETENTION_DAYS, data a deletion
        # request kept until its retained_until, uploads nothing refers to past
        # UPLOAD_UNUSED_RETENTION_DAYS (signing.privacy.retention).
        "purge-expired": {
            "task": "signing.privacy.tasks.purge_expired",
            "schedule": crontab(hour=env.int("PURGE_EXPIRED_HOUR", default=3), minute=30),
        },
    }
)

# --- Production hardening ------------------------------------------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^pki/"]  # CRLs and CA certificates travel over plain HTTP
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Every log record, traceback included, is cut to this many characters (shanqian.logs).
LOG_MAX_RECORD_CHARS = env.int("LOG_MAX_RECORD_CHARS", default=8000)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "shanqian.logs.RequestIdFilter"}},
    # Bounded records (shanqian.logs) with phones, ID numbers and bearer links masked in every
    # finished line (SPEC §13; shanqian.log_redaction).
    "formatters": {
        "plain": {
            "()": "shanqian.log_redaction.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # runserver's request lines (admin search terms in query strings, /files/ links) go through the same formatter.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # axes logs every attempt and reset with the username and IP; its lockouts show in the admin.
        "axes": {"level": "WARNING"},
        # urllib3 logs request lines at DEBUG, and code2Session carries the app secret in its query.
        "urllib3": {"level": "WARNING"},
        # Its header-parsing warning names the full URL, and a webhook URL may carry a token.
        "urllib3.connection": {"level": "ERROR"},
    },
}
