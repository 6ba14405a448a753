# Defaults for every installation. Override them in a file named by the
# BALLOT_CONFIG environment variable (see production.example.py) or with
# BALLOT_* environment variables, values parsed as JSON: these settings by their
# own name (BALLOT_LINK_SECRET=...), Flask's and the extensions' after the
# prefix (BALLOT_SECRET_KEY=... sets SECRET_KEY).

# The embedded default database: a SQLite file in the instance folder.
SQLALCHEMY_DATABASE_URI = "sqlite:///ballot.sqlite3"

# Links in emails are built from this, never from a request's Host header.
SERVER_NAME = "127.0.0.1:5000"
PREFERRED_URL_SCHEME = "http"

# The policy preset under config/policies/ (or a path to a TOML file).
BALLOT_POLICY = "seed"

# Mail: the outbox worker connects with Flask-Mail's settings (MAIL_*: server, port, TLS or SSL,
# username and password, the sender; MAIL_SUPPRESS_SEND) and writes messages itself (ballot/outbox/wire.py).
MAIL_SERVER = "127.0.0.1"
MAIL_PORT = 8025
MAIL_USE_TLS = False
MAIL_DEFAULT_SENDER = ("PSF Elections", "elections@127.0.0.1")
# Whom voters are told to write to when something is wrong (a receipt not found, a lost right):
# the election administrators' address. By default, the address the mail comes from.
BALLOT_CONTACT_ADDRESS = None
# "console": print messages instead of sending (the demo); "smtp": send.
BALLOT_MAIL_TRANSPORT = "smtp"
BALLOT_MAIL_MAX_ATTEMPTS = 5
# Messages claimed in one transaction and then sent. A worker killed mid-batch leaves that batch
# "sending" (never sent twice by itself; `ballot mail release` after checking the mail log). Each
# batch costs a commit: below about 50, waiting for the disk slows sending (bench/README.md, "Mail").
BALLOT_MAIL_BATCH = 50
# Seconds to wait for the mail server at each step before giving up (and retrying later).
BALLOT_SMTP_TIMEOUT = 30

# PostgreSQL: a transaction left idle this many seconds (its app process frozen, or its host lost
# without closing the connection) is ended by the server, which releases its locks; and the server
# probes an idle connection after this many seconds of silence, to notice a peer that vanished.
BALLOT_PG_IDLE_IN_TRANSACTION_TIMEOUT = 60
BALLOT_PG_KEEPALIVE_IDLE = 30

# How many reverse proxies (nginx, a load balancer) stand in front of the app
# processes. 0: a client's address is the connection's. 1 or more: it is read
# from X-Forwarded-For, trusting that many hops and no more, so that rate
# limits count each client rather than the proxy (werkzeug's ProxyFix).
BALLOT_TRUSTED_PROXIES = 0

# Rate limits (Flask-Limiter); memory:// by default, redis:// in production.
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_HEADERS_ENABLED = True
# Fail closed: while the store cannot be reached, limited pages answer 503
# (docs/DOMAIN.md, "Rate limits"), rather than serve without a limit (swallowing
# the error) or with a limit per process (the in-memory fallback).
RATELIMIT_SWALLOW_ERRORS = False
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = False
# Ballot and opt-in pages have no limit per client address: their links are
# signed capabilities that act once, and many members may vote from one address
# (an office, a conference network). See docs/DOMAIN.md, "Rate limits".
# "Send me my links again": per client address, and per email address asked for.
BALLOT_LINK_AGAIN_RATE_LIMIT = "20 per hour"
BALLOT_LINK_AGAIN_ADDRESS_RATE_LIMIT = "3 per hour"
# Each of the console's two sign-in steps (password, then code), per address.
BALLOT_ADMIN_LOGIN_RATE_LIMIT = "10 per minute; 50 per hour"

# The administrators' console: a session lasts at most this long (seconds),
# and the name authenticator apps show next to the code.
PERMANENT_SESSION_LIFETIME = 8 * 3600
BALLOT_ADMIN_TOTP_ISSUER = "PSF elections"
# The largest request body a page accepts (413 beyond), and the largest a form's
# text fields may take together; the roster upload alone takes up to
# BALLOT_ROSTER_MAX_BYTES, its file included.
MAX_CONTENT_LENGTH = 1024 * 1024
MAX_FORM_MEMORY_SIZE = 1024 * 1024
BALLOT_ROSTER_MAX_BYTES = 64 * 1024 * 1024

SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A form stays good for a day (WCAG 2.2.1's 20-hour bound): a voter may read the
# candidates' statements for hours before casting. The session still bounds it.
WTF_CSRF_TIME_LIMIT = 24 * 3600
# Pages send no Referer (their links carry tokens), so the CSRF check cannot
# demand one; the token and the SameSite session cookie do the work.
WTF_CSRF_SSL_STRICT = False

# Who holds each vote's key while it is open (docs/TRUSTEES.md).
# None: the key is wrapped under BALLOT_SEALING_KEY (below), unless the vote names
#   trustees (the console's draft page, or `ballot vote trustees`); whoever holds
#   the configuration and a copy of the database could open its ballots early.
# {"trustees": ["FINGERPRINT", ...], "threshold": K}: every vote is held by
#   trustees, K of whom must answer after the close for it to be counted; a new
#   draft starts with these, may name others, and cannot open without trustees.
BALLOT_TRUSTEES = None
# Whether a vote may need only one trustee's answer (K = 1): that trustee alone
# could then open its ballots early.
BALLOT_ALLOW_SINGLE_TRUSTEE = False

# Worker processes that open the sealed ballots when a vote is counted, each forked for the count
# with the vote's key and ended with it (ballot/votes/opening.py). 0: one per core; 1: none, the
# count opens them itself.
BALLOT_OPENING_PROCESSES = 0

# Secrets. There are none by default: `ballot` refuses to start without them,
# except under `make run`, which writes a fresh set into the instance folder.
# SECRET_KEY              Flask sessions and CSRF
# BALLOT_LINK_SECRET      signed opt-in and ballot links
# BALLOT_TOKEN_SECRET     anonymous ballot tokens
# BALLOT_SEALING_KEY      wraps each vote's private key while the vote is open (32 bytes, urlsafe base64)
# BALLOT_SIGNING_KEY      signs the published record (Ed25519 private key, PEM)
