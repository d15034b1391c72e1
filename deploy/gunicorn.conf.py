"""Gunicorn settings for the ASGI server, the one command the image, `make` and the docs
use:

    gunicorn cruddur.asgi:application --config deploy/gunicorn.conf.py

Everything comes from the environment: HOST (127.0.0.1; the image sets 0.0.0.0), PORT
(8000), WEB_CONCURRENCY (worker processes, 2), GRACEFUL_TIMEOUT (seconds a SIGTERM
waits for requests to finish, 25), KEEPALIVE (seconds an idle connection stays open,
125), FORWARDED_ALLOW_IPS (who may set X-Forwarded-*, 127.0.0.1).
"""

import os

from uvicorn_worker import UvicornWorker

bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# ECS waits stopTimeout (30 s in the template) between SIGTERM and SIGKILL; this must fit.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "25"))
# Above the load balancer's idle timeout (120 s): the ALB, not the app, closes idle
# connections, so it never sends a request down one the app just closed (a 502).
keepalive = int(os.environ.get("KEEPALIVE", "125"))
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The request log (cruddur/logs.py) is the access log; gunicorn's would repeat each
# request with its query string.
accesslog = None
# stdout, like the app's own log lines: one stream for the container's log driver.
errorlog = "/dev/stdout" if os.path.exists("/dev/stdout") else "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Seconds before graceful_timeout at which still-open responses (event streams never end
# by themselves) are cancelled, so a worker exits on its own and gunicorn exits 0.
STREAM_CUT_MARGIN = 3


class CruddurWorker(UvicornWorker):
    # Django has no ASGI lifespan handlers; "auto" would log that at every start.
    CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "lifespan": "off"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # On SIGTERM uvicorn stops accepting, lets requests finish, and after this many
        # seconds cancels what is still running (an open stream), ending its connection.
        self.config.timeout_graceful_shutdown = max(
            1, self.cfg.graceful_timeout - STREAM_CUT_MARGIN
        )


worker_class = CruddurWorker
