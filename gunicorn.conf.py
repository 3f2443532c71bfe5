"""gunicorn's settings for the API: ``gunicorn -c gunicorn.conf.py run:app``.

``make run``, the production command in the README and the benchmarks in scripts/ all
use this file; a command-line flag overrides a setting. Requests gunicorn itself refuses
(a request line or header over the limits below) get its own plain 400/414 page, outside
the JSON envelope: the reverse proxy in front should answer those first.
"""

import os

# Every interface, on $PORT (the app's own PORT setting, default 5000).
bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
# Worker processes: two per core is gunicorn's advice; $WEB_CONCURRENCY overrides.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads per worker (gthread): requests that wait on the database or a payment
# provider do not hold a whole process.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A worker silent this long (seconds) is killed and replaced: above the slowest
# legitimate request (a 5,000-row import, a provider call with its retries).
timeout = 60
# On restart or SIGTERM, in-flight requests get this long (seconds) to finish.
graceful_timeout = 30
# Seconds an idle keep-alive connection stays open: above a load balancer's 2-5 s
# probe interval, below its idle timeout (60 s on most), so the proxy closes first.
keepalive = 5
# Longest request line (method, path and query), bytes: gunicorn's default; over it, 414.
limit_request_line = 4094
# Most header fields in a request: gunicorn's default; over it, 400.
limit_request_fields = 100
# Longest header field, bytes: room for a JWT bearer token and cookies; over it, 400.
limit_request_field_size = 8190


def post_worker_init(worker):
    """Each worker, once it has loaded ``run:app``, starts the scheduler (jobs claim
    their slot, so N workers run each once). ``flask`` commands never get here."""
    from app import serve

    serve(worker.wsgi)
