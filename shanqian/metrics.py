"""
Prometheus metrics (django-prometheus) at ``/metrics``, for the operators' scraper only.

Request counts, latencies and statuses by view are operational data about every user's
activity, so the endpoint answers only

* a request from an address in ``METRICS_ALLOWED_NETWORKS`` (default: loopback — a sidecar or
  node-local scraper), as seen by the socket (``REMOTE_ADDR``): a proxied request from the
  internet carries the proxy's address, so put the scraper on a network the proxy does not
  forward, or
* a request with ``Authorization: Bearer <METRICS_TOKEN>`` (compared in constant time) when
  that setting is set.

Anyone else gets a plain 404, as for a path that does not exist. With several gunicorn workers
set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory so a scrape sums every worker
(``shanqian.gunicorn_conf`` marks exited workers dead).
"""

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    offered = request.META.get("HTTP_AUTHORIZATION", "")
    if token and offered.startswith("Bearer ") and hmac.compare_digest(offered[7:].encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS)


@never_cache
def metrics(request):
    if not _allowed(request):
        raise Http404
    return ExportToDjangoView(request)
