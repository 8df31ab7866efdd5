"""
gunicorn configuration (``gunicorn -c python:shanqian.gunicorn_conf shanqian.wsgi``), used by the
README's deploy command, the benchmarks and the fault-injection tests.

* **The access log carries no personal data** (issue 15, finding 8). Query strings can hold a
  phone or an ID number (an admin search ``?q=…``) and ``/files/<token>`` paths are bearer links,
  so the request line is logged as method, path and protocol only, ``/files/…`` tokens are
  replaced by ``[redacted]``, the referer is cut to its path the same way, and the atoms of the
  token, cookie and authorization headers are removed (a format that names them prints ``-``).
  Each line ends with the request id (``X-Request-ID``), which ties it to the application's log.
* **Memory given back after large images**: glibc raises its mmap threshold after the first big
  free, so later 16 MB pixel blocks land in per-thread arenas that never shrink; each worker
  pins the threshold at 128 KiB and caps arenas at 2 (``post_fork``), so a decoded photo's
  memory returns to the system when it is freed (see ``bench/upload_memory.py``).

Environment: ``PORT`` (8000), ``HOST`` (0.0.0.0), ``WEB_CONCURRENCY`` (workers; gunicorn's own
variable, default 2 × cores + 1), ``GUNICORN_THREADS`` (1: sync workers), ``GUNICORN_TIMEOUT`` (30 s).
"""

import ctypes
import ctypes.util
import os
import re

from gunicorn.glogging import Logger

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 (behind a proxy)
workers = int(os.environ.get("WEB_CONCURRENCY") or (2 * (os.cpu_count() or 1) + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
logger_class = "shanqian.gunicorn_conf.RedactingLogger"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s" rid=%({x-request-id}o)s'

_BEARER_PATH = re.compile(r"^(/files/)[^/?#]+")
_SECRET_HEADERS = ("x-auth-token", "cookie", "authorization", "x-unique-key", "set-cookie")


def safe_path(path: str) -> str:
    """A path with no bearer token in it (``/files/<token>`` → ``/files/[redacted]``)."""
    return _BEARER_PATH.sub(r"\1[redacted]", path or "")


def safe_referer(referer: str) -> str:
    if not referer or referer == "-":
        return "-"
    without_query = referer.split("?", 1)[0].split("#", 1)[0]
    scheme, sep, rest = without_query.partition("://")
    if not sep:
        return safe_path(without_query)
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host}{safe_path(slash + path)}"


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = safe_path(environ.get("PATH_INFO", ""))
        atoms["r"] = f"{environ.get('REQUEST_METHOD', '-')} {path} {environ.get('SERVER_PROTOCOL', '-')}"
        atoms["U"] = path
        atoms["q"] = ""
        atoms["f"] = safe_referer(environ.get("HTTP_REFERER", "-"))
        for name in _SECRET_HEADERS:
            atoms.pop(f"{{{name}}}i", None)
            atoms.pop(f"{{{name}}}o", None)
        for key in [k for k in atoms if k.endswith("}e")]:
            del atoms[key]  # the WSGI environ holds the raw query and every header
        return atoms


_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def post_fork(server, worker):
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return
    try:
        libc = ctypes.CDLL(libc_name)
        libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
        libc.mallopt(_M_ARENA_MAX, 2)
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


def child_exit(server, worker):
    # Multi-process Prometheus metrics: an exited worker's live gauges are dropped.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess  # only in multi-process metrics mode

        multiprocess.mark_process_dead(worker.pid)
