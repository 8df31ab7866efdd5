"""
Outbound HTTP to addresses staff typed in (webhooks): the SSRF guard and a hard deadline.

* ``check_url(url, allow_private=…)`` — at save time: ``http``/``https`` only, a host, no
  credentials in the URL; the host (an IP literal, or every address its name resolves to) must be
  public unless ``allow_private`` (``WEBHOOK_ALLOW_PRIVATE_ADDRESSES``, default DEBUG). Private,
  loopback, link-local, shared (100.64/10), multicast, reserved and unspecified addresses are
  refused, IPv4-mapped IPv6 included. Raises ``UnsafeUrl`` with a Chinese message.
* ``post(url, body, headers, …)`` — at delivery time: the same check runs again **on the address
  the connection actually uses** (resolution and connection happen together, inside urllib3's
  connection, so a name that re-resolves to 127.0.0.1 after it was saved — DNS rebinding — is
  refused). No redirects are followed and no proxy from the environment is used. The whole
  request — connect, send, the receiver's answer — is bounded by ``deadline`` seconds: a receiver
  that never answers or trickles its answer a byte at a time is cut off (the socket is shut down
  from a timer thread), so it cannot hold a worker longer. (Name resolution is the system
  resolver's and keeps its own timeout.) At most ``MAX_RESPONSE_BYTES`` of the
  answer are read, for the delivery log.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MAX_RESPONSE_BYTES = 2048
MAX_URL_LENGTH = 500


class UnsafeUrl(ValueError):
    """The URL may not be called: wrong scheme, no host, or a non-public address."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)


def _resolve(host: str, port: int) -> list[tuple[int, tuple]]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"无法解析主机名 {host}") from exc
    return [(family, sockaddr) for family, _type, _proto, _name, sockaddr in infos]


def _checked_addresses(host: str, port: int, *, allow_private: bool) -> list[tuple[int, tuple]]:
    addresses = _resolve(host, port)
    if not addresses:
        raise UnsafeUrl(f"无法解析主机名 {host}")
    if not allow_private:
        for _family, sockaddr in addresses:
            if not _is_public(sockaddr[0]):
                raise UnsafeUrl(f"地址 {host} 指向内网、本机或保留地址（{sockaddr[0]}），不允许作为回调地址")
    return addresses


def check_url(url: str, *, allow_private: bool, resolve: bool = True) -> str:
    """The URL, stripped, when it may be called; else ``UnsafeUrl``."""
    url = (url or "").strip()
    if not url:
        raise UnsafeUrl("请填写地址")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"地址不能超过 {MAX_URL_LENGTH} 个字符")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("地址格式无效") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("地址只能以 http:// 或 https:// 开头")
    if not parts.hostname:
        raise UnsafeUrl("地址缺少主机名")
    if parts.username or parts.password:
        raise UnsafeUrl("地址中不能包含用户名或密码")
    if resolve:
        _checked_addresses(
            parts.hostname, port or (443 if parts.scheme == "https" else 80), allow_private=allow_private
        )
    return url


# --- the guarded connection -----------------------------------------------------------------------------


class _Call(threading.local):
    """What the connection of the current call must respect (set by ``post`` for its duration)."""

    allow_private = False
    sockets: list | None = None


_CALL = _Call()


class _GuardedConnectionMixin:
    def _new_conn(self):
        allow_private = _CALL.allow_private
        try:
            addresses = _checked_addresses(self._dns_host, self.port, allow_private=allow_private)
        except UnsafeUrl as exc:
            raise _Refused(str(exc)) from None
        error = None
        for family, sockaddr in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                # connect() itself is bounded by the connect timeout (never more than the deadline).
                sock.settimeout(self.timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.connect(sockaddr)
            except OSError as exc:
                error = exc
                sock.close()
                continue
            if _CALL.sockets is not None:
                _CALL.sockets.append((sock.fileno(), sock.getpeername()))
            return sock
        raise OSError(f"无法连接到 {self.host}") from error


class _Refused(OSError):
    pass


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    elapsed_ms: int


class DeliveryError(Exception):
    """The request did not produce an answer: refused address, connection error, deadline."""


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    connect_timeout: float,
    deadline: float,
    allow_private: bool,
) -> Response:
    """POST ``body`` to ``url`` under the guard and the deadline (see the module docstring)."""
    check_url(url, allow_private=allow_private, resolve=False)
    started = time.monotonic()
    lock = threading.Lock()
    state = {"done": False, "cut": False}
    connected: list[tuple[int, tuple]] = []

    def cut():
        with lock:
            if state["done"]:
                return
            state["cut"] = True
            for fd, peer in connected:
                # shutdown() on the descriptor (TLS wraps the same one) wakes the thread blocked in
                # recv at once. The peer check makes sure the descriptor is still our connection.
                try:
                    probe = socket.socket(fileno=fd)
                except OSError:
                    continue
                try:
                    if probe.getpeername() == peer:
                        probe.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                finally:
                    probe.detach()

    timer = threading.Timer(deadline, cut)
    timer.daemon = True
    session = requests.Session()
    session.trust_env = False  # no HTTP(S)_PROXY from the environment: the guard checks the real peer
    adapter = _GuardedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    _CALL.allow_private, _CALL.sockets = allow_private, connected
    timer.start()
    try:
        response = session.post(
            url,
            data=body,
            headers=headers,
            timeout=(min(connect_timeout, deadline), deadline),
            allow_redirects=False,
            stream=True,
        )
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=512):
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_RESPONSE_BYTES or time.monotonic() - started > deadline:
                break
        if state["cut"]:
            # The cut ends the stream like an EOF: whatever came back is a fragment, not an answer.
            raise DeliveryError(f"超过 {deadline:g} 秒仍未完成，已中断")
        text = b"".join(chunks)[:MAX_RESPONSE_BYTES].decode("utf-8", errors="replace")
        return Response(status=response.status_code, body=text, elapsed_ms=int((time.monotonic() - started) * 1000))
    except requests.RequestException as exc:
        if state["cut"]:
            raise DeliveryError(f"超过 {deadline:g} 秒仍未完成，已中断") from None
        refused = _refusal(exc)
        if refused:
            raise DeliveryError(refused) from None
        if isinstance(exc, requests.Timeout):
            raise DeliveryError(f"超时（{type(exc).__name__}）") from None
        raise DeliveryError(f"连接失败（{type(exc).__name__}）") from None
    finally:
        with lock:
            state["done"] = True
        timer.cancel()
        _CALL.allow_private, _CALL.sockets = False, None
        session.close()


def _refusal(exc: BaseException) -> str | None:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, _Refused):
            return str(exc)
        for arg in getattr(exc, "args", ()):
            if isinstance(arg, BaseException) and _refusal(arg):
                return _refusal(arg)
        reason = getattr(exc, "reason", None)
        if isinstance(reason, BaseException) and id(reason) not in seen:
            found = _refusal(reason)
            if found:
                return found
        exc = exc.__cause__ or exc.__context__
    return None
