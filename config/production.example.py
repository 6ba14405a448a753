# An example production configuration: copy it outside the repository, fill in
# the secrets, and point BALLOT_CONFIG at it. App processes are stateless:
# run several under gunicorn (`gunicorn -c config/gunicorn.conf.py 'ballot:create_app()'`)
# against one PostgreSQL database, and one `ballot worker` process for mail and
# scheduled closes.

SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://ballot@db.internal/ballot"
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 10}

SERVER_NAME = "vote.python.org"
PREFERRED_URL_SCHEME = "https"

BALLOT_POLICY = "psf-bylaws"

MAIL_SERVER = "smtp.internal"
MAIL_PORT = 587
MAIL_USE_TLS = True
MAIL_USERNAME = "elections"
MAIL_PASSWORD = "..."
MAIL_DEFAULT_SENDER = ("PSF Elections", "elections@python.org")
BALLOT_MAIL_TRANSPORT = "smtp"

RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"
# A Redis that does not answer is a Redis that is down: the limited pages then
# answer 503 after this many seconds rather than hang (docs/DOMAIN.md, "Rate limits").
RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
# gunicorn behind one reverse proxy (nginx) that sets X-Forwarded-For.
BALLOT_TRUSTED_PROXIES = 1

# Generate each with `ballot secrets` and keep them in a secret store.
SECRET_KEY = "..."
BALLOT_LINK_SECRET = "..."
BALLOT_TOKEN_SECRET = "..."
BALLOT_SEALING_KEY = "..."
BALLOT_SIGNING_KEY = """-----BEGIN PRIVATE KEY-----
...
-----END PRIVATE KEY-----"""
