"""An RFC 3161 time-stamping authority over real HTTP, for the tests of the HTTP TSA client."""

import asyncio
import threading
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from asn1crypto import tsp

from tests.support.servers import free_port


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    """A thread per request: a slow answer still being written never holds up the next request."""

    daemon_threads = True


class TsaServer:
    """An RFC 3161 responder over HTTP; ``mode`` switches it to slow, garbage or failing answers."""

    def __init__(self, responder):
        self.responder = responder
        self.mode = "ok"
        self.requests: list[dict] = []
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, self.app, server_class=_ThreadingServer, handler_class=_Quiet)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tsr"

    def app(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.requests.append(
            {"content_type": environ.get("CONTENT_TYPE"), "authorization": environ.get("HTTP_AUTHORIZATION", "")}
        )
        if self.mode == "slow":
            time.sleep(2)
        if self.mode == "error":
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"down"]
        if self.mode == "garbage":
            start_response("200 OK", [("Content-Type", "application/timestamp-reply")])
            return [b"\x30\x82\xff\xff not a TimeStampResp"]
        response = asyncio.run(self.responder.async_request_tsa_response(tsp.TimeStampReq.load(body)))
        start_response("200 OK", [("Content-Type", "application/timestamp-reply")])
        return [response.dump()]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
