"""Django settings for o2c, read from the environment.

Environment variables:
- O2C_DATABASE_URL: database URL; default an SQLite file in the data folder.
- O2C_DATA_DIR: folder for the embedded database and the generated secret key.
- O2C_SECRET_KEY: Django secret key; default generated once and kept in the data folder.
- O2C_DEBUG: "1" turns on Django's debug pages (never in production).
- O2C_ALLOWED_HOSTS: comma-separated host names; default localhost only.
- O2C_BROKER_URL: Celery broker (e.g. redis://127.0.0.1:6379/0). Without it, tasks run
  in the calling process, so the embedded set-up needs no broker.
- O2C_EMAIL_HOST, O2C_EMAIL_PORT, O2C_DEFAULT_FROM_EMAIL: outgoing SMTP.
- O2C_LOG_LEVEL: level of the o2c loggers; default INFO. Unhandled request errors are
  always logged with their traceback.
- O2C_FX_MAX_AGE_DAYS: the oldest exchange rate, in days, that conversions of the day
  use (default 10); reports use older ones and name their date.
- O2C_WEBHOOK_ALLOW_PRIVATE: "1" lets outbound webhooks go to private and loopback
  addresses (receivers inside the company network); by default only public ones.
- O2C_HTTPS: "1" when served over HTTPS: secure cookies, HTTPS redirect and HSTS.
  O2C_BEHIND_PROXY: "1" to trust the X-Forwarded-Proto header of a TLS proxy in front.
- O2C_TRUSTED_PROXIES: comma-separated addresses or CIDR ranges of the reverse proxies
  in front of o2c (e.g. 127.0.0.1,10.0.0.0/8). The customer portal takes the client
  address from X-Forwarded-For only when the direct peer is one of them; default none.
- O2C_PUBLIC_URL: the address customers reach o2c at, for links in e-mails and the
  return addresses given to payment gateways; default http://localhost:8000.
- O2C_STRIPE_SECRET_KEY, O2C_STRIPE_WEBHOOK_SECRET: Stripe API key and the signing
  secret of the webhook endpoint; O2C_STRIPE_API_BASE replaces Stripe's API address
  (a local test server, for instance).
- O2C_ADYEN_API_KEY, O2C_ADYEN_MERCHANT_ACCOUNT, O2C_ADYEN_HMAC_KEY: Adyen API key,
  merchant account and the HMAC key of its webhooks; O2C_ADYEN_ENVIRONMENT is "test"
  (default) or "live", O2C_ADYEN_LIVE_PREFIX the live URL prefix, and
  O2C_ADYEN_CHECKOUT_BASE replaces the Checkout API address.
"""

import os

import dj_database_url

from o2c import paths

SECRET_KEY = paths.secret_key()
DEBUG = os.environ.get("O2C_DEBUG") == "1"
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("O2C_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "o2c.core",
    "o2c.parties",
    "o2c.fx",
    "o2c.ledger",
    "o2c.teams",
    "o2c.disputes",
    "o2c.collections",
    "o2c.imports",
    "o2c.billing",
    "o2c.banking",
    "o2c.cashapp",
    "o2c.analytics",
    "o2c.insights",
    "o2c.orders",
    "o2c.credit",
    "o2c.payments",
    "o2c.portal",
    "o2c.webhooks",
    "o2c.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "o2c.core.middleware.PasswordChangeRequiredMiddleware",
    "o2c.core.middleware.ContentSecurityPolicyMiddleware",
    "o2c.core.middleware.O2CErrorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "o2c.urls"
WSGI_APPLICATION = "o2c.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "o2c.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("O2C_DATABASE_URL") or f"sqlite:///{paths.data_dir() / 'o2c.sqlite3'}",
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while an import writes; the busy timeout makes a
    # writer wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("O2C_TEST_SQLITE_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "analytics:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("es", "Español")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = paths.data_dir() / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# WhiteNoise serves static files from the installed apps directly, so `o2c runserver`
# and a production server show the same pages without a separate web server.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = paths.data_dir() / "media"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Served over HTTPS (directly or behind a proxy that sets X-Forwarded-Proto): cookies
# travel only over HTTPS, plain HTTP is redirected, and HSTS makes browsers keep to HTTPS.
HTTPS = os.environ.get("O2C_HTTPS") == "1"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
if HTTPS and os.environ.get("O2C_BEHIND_PROXY") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Scripts and styles from o2c itself only. htmx needs 'unsafe-eval' for the computed
# values of `hx-vals="js:..."` and inline styles for its loading indicators.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("O2C_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("O2C_EMAIL_PORT", "1025"))
DEFAULT_FROM_EMAIL = os.environ.get("O2C_DEFAULT_FROM_EMAIL", "o2c@localhost")

CELERY_BROKER_URL = os.environ.get("O2C_BROKER_URL") or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not os.environ.get("O2C_BROKER_URL")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "o2c.core.log_handlers.StderrHandler", "formatter": "line"},
    },
    "loggers": {
        "o2c": {"handlers": ["console"], "level": os.environ.get("O2C_LOG_LEVEL", "INFO")},
        # Unhandled errors of requests, with their traceback, in production as in debug mode.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

NINJA_PAGINATION_PER_PAGE = 100

O2C_PUBLIC_URL = os.environ.get("O2C_PUBLIC_URL", "http://localhost:8000").rstrip("/")

# Exchange rates older than this many days are not used for conversions of the day.
O2C_FX_MAX_AGE_DAYS = int(os.environ.get("O2C_FX_MAX_AGE_DAYS", "10"))

# Outbound webhooks go to public addresses only, unless this is set.
O2C_WEBHOOK_ALLOW_PRIVATE = os.environ.get("O2C_WEBHOOK_ALLOW_PRIVATE") == "1"
# Without a broker, deliveries wait for the scheduler's sweep unless this is True.
O2C_WEBHOOKS_SEND_INLINE = False

O2C_TRUSTED_PROXIES = [
    part.strip() for part in os.environ.get("O2C_TRUSTED_PROXIES", "").split(",") if part.strip()
]

# Card and wallet gateways; a gateway is offered once its keys are set.
O2C_PAYMENT_GATEWAYS = {
    "stripe": {
        "secret_key": os.environ.get("O2C_STRIPE_SECRET_KEY", ""),
        "webhook_secret": os.environ.get("O2C_STRIPE_WEBHOOK_SECRET", ""),
        "api_base": os.environ.get("O2C_STRIPE_API_BASE", ""),
    },
    "adyen": {
        "api_key": os.environ.get("O2C_ADYEN_API_KEY", ""),
        "merchant_account": os.environ.get("O2C_ADYEN_MERCHANT_ACCOUNT", ""),
        "hmac_key": os.environ.get("O2C_ADYEN_HMAC_KEY", ""),
        "environment": os.environ.get("O2C_ADYEN_ENVIRONMENT", "test"),
        "live_prefix": os.environ.get("O2C_ADYEN_LIVE_PREFIX", ""),
        "checkout_base": os.environ.get("O2C_ADYEN_CHECKOUT_BASE", ""),
    },
}
