"""What a response leaves of the request body: small rests are dropped, big ones close the
connection (telling gunicorn, which drops the application's Connection header)."""

from __future__ import annotations

import io

from stratus.api import bodies


class ServerResponse:
    def __init__(self) -> None:
        self.closed, self.headers = False, None

    def force_close(self) -> None:
        self.closed = True

    def start_response(self, status, headers, exc_info=None):
        self.headers = headers


def answer_after_reading(count):
    def app(environ, start_response):
        environ["wsgi.input"].read(count)
        start_response("413 Request Entity Too Large", [("Content-Type", "application/json")])
        return [b"{}"]
    return app


def run(app, body: bytes):
    server = ServerResponse()
    stream = io.BytesIO(body)
    environ = {"CONTENT_LENGTH": str(len(body)), "wsgi.input": stream}
    bodies.serve(app, environ, server.start_response)
    return server, stream


def test_a_small_rest_is_dropped_and_the_connection_kept():
    server, stream = run(answer_after_reading(10), b"x" * 5000)
    assert not server.closed and ("Connection", "close") not in server.headers
    assert stream.tell() == 5000


def test_a_big_rest_closes_the_connection():
    server, stream = run(answer_after_reading(10), b"x" * (bodies.DRAIN_LIMIT + 10_000))
    assert server.closed and ("Connection", "close") in server.headers
    assert stream.tell() == 10  # nothing read in vain


def test_a_body_read_whole_is_left_alone():
    server, _ = run(answer_after_reading(-1), b"x" * 100_000)
    assert not server.closed and ("Connection", "close") not in server.headers
