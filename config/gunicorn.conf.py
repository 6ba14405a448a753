# gunicorn settings for production and the benchmark. The access log is off:
# ballot and opt-in links carry tokens in their paths, and the app's own
# request log redacts them.
bind = "127.0.0.1:8000"
workers = 2
worker_class = "sync"
accesslog = None
errorlog = "-"
