"""Serve a small test API through stratus.serving.GunicornServer (gthread workers).

Used by test_serving.py to check what only a real server shows: chunked request bodies,
limits on streamed bodies, several workers. Run: python -m tests.functional.widget_server PORT
"""

from __future__ import annotations

import hashlib
import sys

from stratus import conf as stratus_conf
from stratus.api.app import ApiDeps, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.api.validation import body_stream, read_json
from stratus.hooks.manager import create_plugin_manager
from stratus.serving import GunicornServer, gunicorn_options


class Echo:
    auth_required = False

    def on_post(self, req, resp):
        resp.media = {"received": read_json(req)}


class Upload:
    auth_required = False
    max_body_size = None

    def on_put(self, req, resp):
        digest, size, stream = hashlib.sha256(), 0, body_stream(req)
        while chunk := stream.read(65536):
            digest.update(chunk)
            size += len(chunk)
        resp.media = {"size": size, "sha256": digest.hexdigest()}


def make_app():
    conf = stratus_conf.build([], overrides={"api": {"max_request_body_size": 1024}})
    app = create_service_app(ServiceSpec("widget", "/widget", "widget", ErrorStyle.COMPUTE),
                             ApiDeps(conf, create_plugin_manager(conf)))
    app.add_route("/echo", Echo())
    app.add_route("/upload", Upload())
    return finish(app)


if __name__ == "__main__":
    options = gunicorn_options("127.0.0.1", int(sys.argv[1]), workers=2, threads=4, debug=False)
    GunicornServer(make_app, options,
                   on_ready=lambda addrs: print(f"serving on http://{addrs[0][0]}:{addrs[0][1]}", flush=True)).run()
