"""Settings for the helpdesk.

Everything comes from the environment and falls back to embedded defaults that run the whole
product on one machine: SQLite, the in-memory channel layer, eager Celery, emails in a folder.
Every variable is listed in README.md.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from helpdesk.env import SQLITE_OPTIONS, database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HELPDESK_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # daphne first: `runserver` then serves websockets too.
    "daphne",
    # django.contrib.admin, whose site lets in supervisors and superusers only.
    "helpdesk.apps.HelpdeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "helpdesk.apps.HelpdeskConfig",
    "chat.apps.ChatConfig",
    "routing.apps.RoutingConfig",
    "cannedresponses.apps.CannedResponsesConfig",
    "transcripts.apps.TranscriptsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "helpdesk.middleware.WidgetCorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
ASGI_APPLICATION = "helpdesk.asgi.application"
WSGI_APPLICATION = None

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
                "helpdesk.context_processors.brand",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    # The embedded defaults keep their files (database, mail) in one folder of the checkout.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
            # A file, not :memory:, so a live daphne started by the tests sees the test data.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Threads (each with its own connection) for the database work of a server process's sockets
# (chat.db_hops): PostgreSQL serves several at once; SQLite takes one writer at a time.
HELPDESK_DB_THREADS = env_int("HELPDESK_DB_THREADS", 4 if DATABASE_URL else 1)

# --- Redis: channel layer, cache, Celery broker ------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
HELPDESK_CHANNEL_LAYER = env_str("HELPDESK_CHANNEL_LAYER", "pubsub")
# Pub/sub channel names are global to a Redis server: deployments sharing one need their own.
HELPDESK_REDIS_PREFIX = env_str("HELPDESK_REDIS_PREFIX", "helpdesk")
if REDIS_URL:
    if HELPDESK_CHANNEL_LAYER == "pubsub":
        # Two Redis connections per process whatever the number of sockets, and no per-process
        # capacity that silently drops frames under load (docs/architecture.md, "Delivery").
        CHANNEL_LAYERS = {
            "default": {
                # channels_redis's pub/sub layer, telling the consumers when it reconnects.
                "BACKEND": "chat.layers.ResumingRedisPubSubChannelLayer",
                "CONFIG": {"hosts": [{"address": REDIS_URL}], "prefix": HELPDESK_REDIS_PREFIX},
            }
        }
    elif HELPDESK_CHANNEL_LAYER == "core":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [
                        {
                            "address": REDIS_URL,
                            # The default pool of 100 raises MaxConnectionsError in a
                            # reconnect storm.
                            "max_connections": 1000,
                            # redis-py's 5 s read timeout would fire during the layer's own
                            # 5 s blocking pop on a quiet socket and kill its consumer.
                            "socket_timeout": 10,
                        }
                    ],
                    "capacity": 5000,
                    "prefix": HELPDESK_REDIS_PREFIX,
                },
            }
        }
    else:
        raise ImproperlyConfigured("HELPDESK_CHANNEL_LAYER must be 'pubsub' or 'core'")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": HELPDESK_REDIS_PREFIX,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env_bool(
    "CELERY_TASK_ALWAYS_EAGER", not (REDIS_URL or env_str("CELERY_BROKER_URL"))
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis broker: a task held by a worker that died whole (acks_late) is given back only after
# `visibility_timeout`; the unacked index is scanned every interval * throttle seconds. Kombu's
# defaults (1 h; 10 * 10 s) are kept: the timeout must exceed any task's run and retry countdown
# (at most 600 s), or a task would be delivered twice. The integration tests shorten all three.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("HELPDESK_CELERY_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": env_int("HELPDESK_CELERY_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": env_int("HELPDESK_CELERY_RESTORE_THROTTLE", 10),
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Periodic tasks (run `celery -A helpdesk beat` next to the workers).
CELERY_BEAT_SCHEDULE = {
    # Agents gone past the grace period become away and their chats are requeued.
    "routing-presence-sweep": {"task": "routing.tasks.presence_sweep", "schedule": 15.0},
    # The routing policy's safety net, for a trigger missed while a row was locked.
    "routing-queue-drain": {"task": "routing.tasks.queue_drain", "schedule": 15.0},
    # Queued chats whose customer is gone past HELPDESK_ABANDON_AFTER_SECONDS are closed.
    "routing-abandoned-sweep": {"task": "routing.tasks.abandoned_sweep", "schedule": 30.0},
    # Active chats left unanswered past their topic's reply timeout go to another agent.
    "routing-no-reply-sweep": {"task": "routing.tasks.no_reply_sweep", "schedule": 30.0},
    # Open chats past their topic's red threshold are flagged to supervisors, once per wait.
    "routing-red-flag-sweep": {"task": "routing.tasks.red_flag_sweep", "schedule": 15.0},
    # Webhook deliveries whose task was lost (or that eager Celery left for later) are queued.
    "helpdesk-webhook-sweep": {"task": "helpdesk.tasks.webhook_sweep", "schedule": 60.0},
    # Transfer requests nobody answered within HELPDESK_TRANSFER_TIMEOUT_SECONDS go back.
    "routing-transfer-expiry-sweep": {
        "task": "routing.tasks.transfer_expiry_sweep",
        "schedule": 10.0,
    },
    # Active chats where nobody wrote for HELPDESK_INACTIVITY_CLOSE_SECONDS are closed.
    "transcripts-inactivity-sweep": {
        "task": "transcripts.tasks.inactivity_sweep",
        "schedule": 60.0,
    },
    # Closed chats past HELPDESK_OFFER_DELAY_SECONDS get their follow-up offer delivery row.
    "transcripts-offer-sweep": {"task": "transcripts.tasks.offer_sweep", "schedule": 60.0},
    # Emails left pending for an hour (their task lost, or the broker down at the close).
    "transcripts-pending-sweep": {"task": "transcripts.tasks.pending_sweep", "schedule": 300.0},
    # Agents' replies a departed customer has not seen for HELPDESK_MISSED_REPLY_SECONDS.
    "transcripts-missed-reply-sweep": {
        "task": "transcripts.tasks.missed_reply_sweep",
        "schedule": 60.0,
    },
}

# --- Auth, sessions, security -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:console"
LOGOUT_REDIRECT_URL = "login"

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# --- I18n, static --------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "helpdesk.storage.StaticStorage"
        )
    },
}
# Serve straight from the source folders while developing: no collectstatic step for `make run`.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Email ----------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_TIMEOUT = 20
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Helpdesk <support@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST framework ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["helpdesk.api.renderers.SafeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "helpdesk.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "public_chat_start": env_str("HELPDESK_PUBLIC_CHAT_RATE", "20/min"),
        "public_read": "120/min",
        # Console calls made as an agent types (phrase suggestions, tone check), per agent.
        "console_assist": "300/min",
        # Knowledge base searches from the console (debounced as the agent types), per agent.
        "console_kb": "240/min",
        # Messages left (tickets) per client IP: each one emails an address the client chose.
        "public_ticket_create": env_str("HELPDESK_PUBLIC_TICKET_RATE", "10/hour"),
        # Proactive invitations (docs/invitations.md): the widget asks a few times per page
        # view, and counts shown/accepted/dismissed once per invitation.
        "public_invitation_check": env_str("HELPDESK_PUBLIC_INVITATION_CHECK_RATE", "120/min"),
        "public_invitation_event": env_str("HELPDESK_PUBLIC_INVITATION_EVENT_RATE", "60/min"),
    },
    # 0, not None: with None DRF trusts the client's own X-Forwarded-For, so rotating that
    # header would reset the throttling at will.
    "NUM_PROXIES": env_int("HELPDESK_NUM_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": "Live chat helpdesk. The websocket protocol is described in docs/protocol.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that several endpoints name alike (`status`, `kind`): one clear name each,
    # instead of drf-spectacular's hashed names and its warnings.
    "ENUM_NAME_OVERRIDES": {
        "ChatStatusEnum": "chat.models.Chat.Status",
        "TicketStatusEnum": "helpdesk.models.Ticket.Status",
        # Message.Kind and Chat.ClosedBy: the same three parties of a chat.
        "ChatPartyEnum": "chat.models.Message.Kind",
        "ToneRuleKindEnum": "cannedresponses.models.ToneRule.Kind",
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- The helpdesk itself -------------------------------------------------------------------
HELPDESK_BRAND_NAME = env_str("HELPDESK_BRAND_NAME", "Helpdesk")
# Origins (scheme://host[:port]) of the websites allowed to embed the chat widget.
HELPDESK_WIDGET_ORIGINS = env_list("HELPDESK_WIDGET_ORIGINS")
# Flood control per websocket connection: a steady rate with a burst allowance; a client that
# keeps sending past the abuse limit is disconnected (close code 4008, docs/protocol.md).
HELPDESK_WS_RATE_PER_SECOND = env_int("HELPDESK_WS_RATE_PER_SECOND", 10)
HELPDESK_WS_RATE_BURST = env_int("HELPDESK_WS_RATE_BURST", 30)
HELPDESK_WS_ABUSE_REJECTIONS = env_int("HELPDESK_WS_ABUSE_REJECTIONS", 20)
# Frames one server process handles at once before it refuses new messages with `busy`
# (docs/protocol.md): about 1.5 s of work at full speed, so accepted frames wait no longer.
HELPDESK_WS_BUSY_FRAMES = env_int("HELPDESK_WS_BUSY_FRAMES", 1000)
# How often an open console tells presence it is still there.
HELPDESK_CONSOLE_HEARTBEAT_SECONDS = env_int("HELPDESK_CONSOLE_HEARTBEAT_SECONDS", 20)

# --- Routing (docs/routing.md) ---------------------------------------------------------------
# The class deciding who gets which chat: AutomaticPolicy assigns, ManualPolicy lets agents take.
HELPDESK_ROUTING_POLICY = env_str("HELPDESK_ROUTING_POLICY", "routing.policies.AutomaticPolicy")
# A console connection is live while seen within this many seconds (keep it > the heartbeat).
HELPDESK_PRESENCE_TTL_SECONDS = env_int("HELPDESK_PRESENCE_TTL_SECONDS", 60)
# How long an online agent may have no live console before they become away and their chats
# go back to the front of the queue.
HELPDESK_PRESENCE_GRACE_SECONDS = env_int("HELPDESK_PRESENCE_GRACE_SECONDS", 60)
# Between the beat task's runs, sockets sweep presence at most this often per server process.
HELPDESK_PRESENCE_SWEEP_SECONDS = env_int("HELPDESK_PRESENCE_SWEEP_SECONDS", 5)
# The handling time a queue estimate assumes for a topic with no closed chat to learn from.
HELPDESK_DEFAULT_HANDLING_SECONDS = env_int("HELPDESK_DEFAULT_HANDLING_SECONDS", 300)
# A queued chat whose customer has had no open socket for this long is closed as abandoned
# (keep it well above HELPDESK_CONSOLE_HEARTBEAT_SECONDS, which customer sockets beat at too).
HELPDESK_ABANDON_AFTER_SECONDS = env_int("HELPDESK_ABANDON_AFTER_SECONDS", 120)
# How long a colleague has to accept a transfer (or escalation) before it returns to the sender.
HELPDESK_TRANSFER_TIMEOUT_SECONDS = env_int("HELPDESK_TRANSFER_TIMEOUT_SECONDS", 60)
# An active chat where neither side wrote for this long is closed (docs/transcripts.md); 0: off.
HELPDESK_INACTIVITY_CLOSE_SECONDS = env_int("HELPDESK_INACTIVITY_CLOSE_SECONDS", 1800)
# First retry delay of a failed email send; it doubles per retry, capped at 600 s (jittered).
HELPDESK_MAIL_RETRY_BASE_SECONDS = env_int("HELPDESK_MAIL_RETRY_BASE_SECONDS", 10)
# How long after the first submission a customer may still change their rating of a chat.
HELPDESK_RATING_EDIT_SECONDS = env_int("HELPDESK_RATING_EDIT_SECONDS", 86400)
# The follow-up offer (docs/transcripts.md): sent this long after the close, to customers who
# agreed to news and offers, and never twice to one address within the quiet period.
HELPDESK_OFFER_DELAY_SECONDS = env_int("HELPDESK_OFFER_DELAY_SECONDS", 3600)
HELPDESK_OFFER_QUIET_DAYS = env_int("HELPDESK_OFFER_QUIET_DAYS", 30)
# An agent's reply unseen this long by a customer who left is emailed to them (0: off).
HELPDESK_MISSED_REPLY_SECONDS = env_int("HELPDESK_MISSED_REPLY_SECONDS", 300)
# Scheme and host the public pages are reached at: emails carry absolute links, and a worker
# has no request to take the host from.
HELPDESK_PUBLIC_URL = env_str("HELPDESK_PUBLIC_URL", "http://localhost:8000")

# --- Webhooks (docs/webhooks.md) ---------------------------------------------------------------
# Seconds between the attempts of a failed delivery (one more attempt than delays: 6). Each is
# below the Redis broker's visibility timeout, like every other countdown.
HELPDESK_WEBHOOK_RETRY_DELAYS = [
    int(delay)
    for delay in env_list("HELPDESK_WEBHOOK_RETRY_DELAYS", ["10", "30", "90", "300", "600"])
]
HELPDESK_WEBHOOK_TIMEOUT_SECONDS = env_int("HELPDESK_WEBHOOK_TIMEOUT_SECONDS", 5)
# A subscription whose deliveries failed this many times in a row is disabled and flagged.
HELPDESK_WEBHOOK_DISABLE_AFTER = env_int("HELPDESK_WEBHOOK_DISABLE_AFTER", 10)
# SSRF guard: off (false) only for development, to send events to localhost or a private network.
HELPDESK_WEBHOOK_ALLOW_PRIVATE = env_bool("HELPDESK_WEBHOOK_ALLOW_PRIVATE", False)
# How long a process remembers which events have subscribers (0: ask the database every time).
HELPDESK_WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS = env_int(
    "HELPDESK_WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS", 5
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("HELPDESK_LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
