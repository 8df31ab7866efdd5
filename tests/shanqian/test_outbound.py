"""
Outbound HTTP to staff-typed addresses (shanqian.outbound): the SSRF guard at save time and at
connection time, no redirects, and a hard deadline that a silent or trickling receiver cannot
stretch. Real sockets against local servers; name resolution is pinned with monkeypatch.
"""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shanqian import outbound
from shanqian.outbound import DeliveryError, UnsafeUrl, check_url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/x", "只能以 http:// 或 https:// 开头"),
        ("file:///etc/passwd", "只能以 http:// 或 https:// 开头"),
        ("javascript:alert(1)", "只能以 http:// 或 https:// 开头"),
        ("hooks.example.com/x", "只能以 http:// 或 https:// 开头"),
        ("https:///nohost", "缺少主机名"),
        ("https://user:pass@hooks.example.com/", "不能包含用户名或密码"),
        ("https://hooks.example.com:99999/", "格式无效"),
        ("", "请填写地址"),
        ("https://example.com/" + "x" * 500, "不能超过"),
    ],
)
def test_urls_that_are_not_plain_http_are_refused(url, message):
    with pytest.raises(UnsafeUrl, match=message):
        check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # the cloud metadata service
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104
        "224.0.0.1",
        "[::1]",
        "[fe80::1]",
        "[fc00::1]",
        "[::ffff:127.0.0.1]",
        "localhost",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused_in_production(host):
    with pytest.raises(UnsafeUrl, match="内网、本机或保留地址"):
        check_url(f"http://{host}/hook", allow_private=False)


def test_private_addresses_are_allowed_when_configured_for_local_testing():
    assert check_url("http://127.0.0.1:8080/hook", allow_private=True) == "http://127.0.0.1:8080/hook"


def test_a_public_address_is_allowed():
    assert check_url("https://8.8.8.8/hook", allow_private=False) == "https://8.8.8.8/hook"


def test_a_name_is_judged_by_every_address_it_resolves_to(monkeypatch):
    def fake_getaddrinfo(host, port, *args, **kwargs):
        addresses = {"hooks.example.com": ["203.0.113.9", "8.8.4.4"], "sneaky.example.com": ["8.8.4.4", "10.0.0.5"]}
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in addresses[host]]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(UnsafeUrl, match=r"10\.0\.0\.5"):
        check_url("https://sneaky.example.com/", allow_private=False)
    with pytest.raises(UnsafeUrl, match=r"203\.0\.113\.9"):  # TEST-NET-3 is documentation space, not global
        check_url("https://hooks.example.com/", allow_private=False)


def test_a_name_that_does_not_resolve_is_refused(monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(UnsafeUrl, match="无法解析主机名"):
        check_url("https://nowhere.invalid/", allow_private=False)


# --- delivery against real local servers -------------------------------------------------------------


class Receiver:
    def __init__(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    servers = []

    def make(handler):
        server = Receiver(handler)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


class Echo(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Echo.seen.append((dict(self.headers), body))
        answer = b'{"ok": true}'
        self.send_response(202)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def post(url, *, deadline=5.0, allow_private=True):
    return outbound.post(
        url, body=b'{"a":1}', headers={"X-Test": "1"}, connect_timeout=2, deadline=deadline, allow_private=allow_private
    )


def test_a_post_reaches_the_receiver_with_its_body_and_headers(receiver):
    server = receiver(Echo)
    Echo.seen = []

    response = post(server.url)

    assert (response.status, response.body) == (202, '{"ok": true}')
    headers, body = Echo.seen[0]
    assert body == b'{"a":1}'
    assert headers["X-Test"] == "1"


def test_the_connection_itself_refuses_a_private_peer_in_production(receiver):
    server = receiver(Echo)
    Echo.seen = []

    with pytest.raises(DeliveryError, match="内网、本机或保留地址"):
        post(server.url, allow_private=False)
    assert Echo.seen == []


def test_a_name_rebound_to_loopback_after_it_was_saved_is_refused_at_delivery(receiver, monkeypatch):
    server = receiver(Echo)
    Echo.seen = []
    real_getaddrinfo = socket.getaddrinfo
    port = server.server.server_address[1]

    def rebinding(host, *args, **kwargs):
        if host == "hooks.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(DeliveryError, match=r"127\.0\.0\.1"):
        post(f"http://hooks.example.com:{port}/hook", allow_private=False)
    assert Echo.seen == []


class Redirect(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_redirects_are_not_followed(receiver):
    server = receiver(Redirect)

    assert post(server.url).status == 302


class Silent(BaseHTTPRequestHandler):
    def do_POST(self):
        time.sleep(30)

    def log_message(self, *args):
        pass


class Trickle(BaseHTTPRequestHandler):
    """Answers a byte every 0.1 s, forever: no single read ever times out."""

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            while True:
                self.wfile.write(b"X")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("handler", [Silent, Trickle], ids=["never-answers", "trickles-forever"])
def test_a_receiver_cannot_hold_the_caller_beyond_the_deadline(receiver, handler):
    server = receiver(handler)

    started = time.monotonic()
    with pytest.raises(DeliveryError):
        post(server.url, deadline=1.0)
    elapsed = time.monotonic() - started

    assert elapsed < 2.5


def test_a_closed_port_is_a_connection_error(receiver):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(DeliveryError, match="连接失败"):
        post(f"http://127.0.0.1:{port}/hook")
