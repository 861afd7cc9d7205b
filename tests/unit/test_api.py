"""The API base: middleware, OpenStack-style errors, validation, policy, OpenAPI, composite."""

from __future__ import annotations

import io
import json

import falcon
import jsonschema
import pytest
from falcon import testing
from oslo_policy import policy as oslo_policy

from stratus import conf as stratus_conf
from stratus.api import composite, errors
from stratus.api.app import ApiDeps, ServiceSpec, create_service_app, finish
from stratus.api.errors import ErrorStyle
from stratus.api.policy import Policy, enforce
from stratus.api.validation import body_stream, schema
from stratus.context import RequestContext
from stratus.exceptions import Conflict, Forbidden
from stratus.hooks import hookimpl
from stratus.hooks.manager import create_plugin_manager

WIDGET = {
    "type": "object",
    "required": ["widget"],
    "additionalProperties": False,
    "properties": {"widget": {
        "type": "object", "required": ["name"], "additionalProperties": False,
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 16},
                       "size": {"type": "integer", "minimum": 1}},
    }},
}
WIDGET_RESPONSE = {"type": "object", "required": ["widget"],
                   "properties": {"widget": {"type": "object", "required": ["id", "name"]}}}


class Widgets:
    def __init__(self, policy):
        self.policy = policy
        self.created = []

    @schema("Create a widget", request=WIDGET, responses={201: WIDGET_RESPONSE})
    def on_post(self, req, resp):
        enforce(req, self.policy, "widget:create")
        name = req.context.body["widget"]["name"]
        if name == "taken":
            raise Conflict("A widget named taken already exists.")
        if name == "bug":
            raise RuntimeError("secret internal detail")
        self.created.append(name)
        resp.status = 201
        resp.media = {"widget": {"id": "w1", "name": name}}


class Upload:
    max_body_size = None

    def on_put(self, req, resp):
        resp.media = {"bytes": len(body_stream(req).read())}


class Public:
    auth_required = False

    @schema("Say hello", responses={200: {"type": "object", "required": ["hello"]}})
    def on_get(self, req, resp):
        resp.media = {"hello": req.context.stratus.user_id or "anonymous"}


def token_authenticator(req):
    token = req.get_header("X-Auth-Token")
    if token is None:
        return None
    user, _, roles = token.partition(":")
    return RequestContext(user_id=user, project_id="p1", roles=roles.split(",") if roles else [])


@pytest.fixture
def make_client(conf):
    def make(style=ErrorStyle.COMPUTE, plugins=None, max_body=None):
        if max_body is not None:
            conf.set_override("max_request_body_size", max_body, group="api")
        pm = create_plugin_manager(conf, extra_plugins=plugins or {})
        deps = ApiDeps(conf, pm, authenticator=token_authenticator)
        app = create_service_app(ServiceSpec("widget", "/widget", "widget", style, "x-widget-request-id"), deps)
        policy = Policy(conf, [oslo_policy.RuleDefault("widget:create", "rule:admin_or_member")])
        widgets = Widgets(policy)
        app.add_route("/widgets", widgets)
        app.add_route("/upload", Upload())
        app.add_route("/public", Public())
        finish(app)
        client = testing.TestClient(composite.CompositeApp([app]))
        client.app_under_test = app
        client.widgets = widgets
        return client
    return make


MEMBER = {"X-Auth-Token": "u1:member"}


def post(client, body, headers=MEMBER, **kw):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.simulate_post("/widget/widgets", body=data, headers=headers, **kw)


def test_valid_request_succeeds_with_request_ids(make_client):
    client = make_client()
    result = post(client, {"widget": {"name": "a", "size": 2}})
    assert result.status_code == 201 and result.json == {"widget": {"id": "w1", "name": "a"}}
    request_id = result.headers["x-openstack-request-id"]
    assert request_id.startswith("req-") and result.headers["x-widget-request-id"] == request_id


@pytest.mark.parametrize(("body", "field", "detail"), [
    ({"widget": {"name": 7}}, "widget/name", "7 is not of type 'string'"),
    ({"widget": {}}, "widget/name", "'name' is a required property"),
    ({"widget": {"name": "a", "size": 0}}, "widget/size", "0 is less than the minimum of 1"),
    ({"widget": {"name": "a", "colour": "red"}}, "widget/colour", "Additional properties are not allowed"),
    ({"gadget": {}}, "widget", "'widget' is a required property"),
])
def test_invalid_body_gets_400_naming_the_field_and_writes_nothing(make_client, body, field, detail):
    client = make_client()
    result = post(client, body)
    assert result.status_code == 400
    message = result.json["badRequest"]["message"]
    assert message.startswith(f"Invalid input for field/attribute {field}.") and detail in message
    assert client.widgets.created == []


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b"[1,"])
def test_malformed_body_gets_400(make_client, raw):
    result = post(make_client(), raw)
    assert result.status_code == 400
    assert result.json["badRequest"]["message"].startswith("Malformed request body")


def test_body_over_the_limit_gets_413_by_content_length(make_client):
    result = post(make_client(max_body=64), {"widget": {"name": "x" * 100}})
    assert result.status_code == 413
    assert "limit is 64" in result.json["overLimit"]["message"]


def test_chunked_body_over_the_limit_gets_413(make_client):
    client = make_client(max_body=64)

    def chunks():
        yield b'{"widget": {"name": "'
        yield b"x" * 200
        yield b'"}}'

    stream = io.BytesIO(b"".join(chunks()))
    environ = {"wsgi.input": stream, "wsgi.input_terminated": True}
    result = client.simulate_post("/widget/widgets", headers=MEMBER, extras=environ)
    assert result.status_code == 413
    assert client.widgets.created == []


def test_routes_can_opt_out_of_the_limit_for_uploads(make_client):
    result = make_client(max_body=64).simulate_put("/widget/upload", body=b"x" * 10000, headers=MEMBER)
    assert result.status_code == 200 and result.json == {"bytes": 10000}


def test_no_credentials_get_401_and_public_routes_stay_open(make_client):
    client = make_client(ErrorStyle.IDENTITY)
    result = post(client, {"widget": {"name": "a"}}, headers={})
    assert result.status_code == 401
    assert result.json == {"error": {"code": 401, "title": "Unauthorized",
                                     "message": "The request you have made requires authentication."}}
    assert client.simulate_get("/widget/public").json == {"hello": "anonymous"}
    assert client.simulate_get("/widget/public", headers=MEMBER).json == {"hello": "u1"}


def test_policy_denial_gets_403_naming_the_action(make_client):
    result = post(make_client(), {"widget": {"name": "a"}}, headers={"X-Auth-Token": "u2:reader"})
    assert result.status_code == 403
    assert result.json["forbidden"]["message"] == "Policy doesn't allow widget:create to be performed."


def test_policy_file_overrides_the_defaults(tmp_path):
    rules = tmp_path / "policy.yaml"
    rules.write_text('"widget:create": "role:reader"\n')
    conf_file = tmp_path / "stratus.conf"
    conf_file.write_text(f"[oslo_policy]\npolicy_file = {rules}\n")
    conf = stratus_conf.build([str(conf_file)])
    policy = Policy(conf, [oslo_policy.RuleDefault("widget:create", "rule:admin_or_member")])
    reader = RequestContext(user_id="u", project_id="p", roles=["reader"])
    policy.authorize(reader, "widget:create")
    member = RequestContext(user_id="u", project_id="p", roles=["member"])
    with pytest.raises(Forbidden):
        policy.authorize(member, "widget:create")


def test_an_edited_policy_file_applies_after_the_reload_interval_without_a_look_per_check(tmp_path, monkeypatch):
    import os
    import time

    rules = tmp_path / "policy.yaml"
    rules.write_text('"widget:create": "role:reader"\n')
    conf_file = tmp_path / "stratus.conf"
    conf_file.write_text(f"[oslo_policy]\npolicy_file = {rules}\n[api]\npolicy_reload_interval = 30\n")
    policy = Policy(stratus_conf.build([str(conf_file)]), [oslo_policy.RuleDefault("widget:create", "role:admin")])
    reader = RequestContext(user_id="u", project_id="p", roles=["reader"])
    policy.authorize(reader, "widget:create")
    looks = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **k: looks.append(path) or real_stat(path, *a, **k))
    for _ in range(100):
        policy.authorize(reader, "widget:create")
    assert looks == []  # the checks read the rules in memory
    monkeypatch.undo()
    rules.write_text('"widget:create": "role:member"\n')
    os.utime(rules, (time.time() + 5, time.time() + 5))  # a later mtime, whatever the clock's resolution
    policy.authorize(reader, "widget:create")  # within the interval: the rules loaded before
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 31)
    with pytest.raises(Forbidden):
        policy.authorize(reader, "widget:create")
    policy.authorize(RequestContext(user_id="u", project_id="p", roles=["member"]), "widget:create")


def test_domain_errors_map_to_their_status(make_client):
    result = post(make_client(), {"widget": {"name": "taken"}})
    assert result.status_code == 409
    assert result.json == {"conflictingRequest": {"code": 409, "message": "A widget named taken already exists."}}


def test_unexpected_errors_get_500_without_internals(make_client):
    result = post(make_client(), {"widget": {"name": "bug"}})
    assert result.status_code == 500
    message = result.json["computeFault"]["message"]
    assert "secret internal detail" not in message and result.headers["x-openstack-request-id"] in message


@pytest.mark.parametrize(("style", "check"), [
    (ErrorStyle.COMPUTE,
     lambda r: r.json["itemNotFound"]["code"] == 404 and "/widget/nothing/here" in r.json["itemNotFound"]["message"]),
    (ErrorStyle.IDENTITY, lambda r: r.json["error"]["title"] == "Not Found" and "/nothing/here" in r.text),
    (ErrorStyle.NETWORK, lambda r: r.json["NeutronError"]["type"] == "HTTPNotFound" and "/nothing/here" in r.text),
    (ErrorStyle.OBJECT,
     lambda r: r.text.startswith("Not Found") and r.headers["content-type"].startswith("text/plain")),
])
def test_unknown_routes_get_404_in_the_service_style(make_client, style, check):
    result = make_client(style).simulate_get("/widget/nothing/here")
    assert result.status_code == 404 and check(result)


def test_wrong_method_gets_405_with_allow(make_client):
    result = make_client().simulate_delete("/widget/widgets", headers=MEMBER)
    assert result.status_code == 405
    assert "POST" in result.headers["allow"]
    assert result.json["badMethod"]["code"] == 405


def test_global_request_id_is_kept_when_well_formed(make_client):
    seen = {}

    class Spy:
        @hookimpl
        def stratus_request_finished(self, service, status, context):
            seen.update(service=service, status=status, global_id=context.global_request_id)

    client = make_client(plugins={"spy": Spy()})
    good = "req-12345678-1234-1234-1234-123456789abc"
    client.simulate_get("/widget/public", headers={"X-OpenStack-Request-ID": good})
    assert seen == {"service": "widget", "status": 200, "global_id": good}
    client.simulate_get("/widget/public", headers={"X-OpenStack-Request-ID": "evil\r\nheader"})
    assert seen["global_id"] is None


def test_plugins_can_add_routes(make_client):
    class Extra:
        auth_required = False

        def on_get(self, req, resp):
            resp.media = {"extra": True}

    class RoutePlugin:
        @hookimpl
        def stratus_api_routes(self, service, app):
            app.add_route("/extra", Extra())

    client = make_client(plugins={"routes": RoutePlugin()})
    assert client.simulate_get("/widget/extra").json == {"extra": True}


def test_openapi_document_describes_routes_and_validates_responses(make_client):
    client = make_client()
    doc = client.simulate_get("/widget/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    operation = doc["paths"]["/widgets"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == WIDGET
    assert doc["paths"]["/public"]["get"]["security"] == []
    result = post(client, {"widget": {"name": "a"}})
    jsonschema.validate(result.json, operation["responses"]["201"]["content"]["application/json"]["schema"])


def test_error_renderer_covers_every_style():
    for style in ErrorStyle:
        content_type, body = errors.render(style, 409, "duplicate")
        assert "duplicate" in body
        if content_type == "application/json":
            assert json.loads(body)


def test_falcon_errors_raised_by_resources_use_the_style(make_client, conf):
    class Teapot:
        auth_required = False

        def on_get(self, req, resp):
            raise falcon.HTTPBadRequest(description="no tea here")

    deps = ApiDeps(conf, create_plugin_manager(conf))
    app = create_service_app(ServiceSpec("n", "/n", "network", ErrorStyle.NETWORK), deps)
    app.add_route("/tea", Teapot())
    result = testing.TestClient(app).simulate_get("/tea")
    assert result.json == {"NeutronError": {"type": "HTTPBadRequest", "message": "no tea here", "detail": ""}}


def test_policy_sample_matches_the_code_and_loads_as_a_policy_file(tmp_path):
    import os

    import yaml

    from stratus.api.policy import all_rules, sample_yaml

    text = sample_yaml(all_rules())
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "etc", "policy.yaml.sample")) as f:
        assert f.read() == text, "etc/policy.yaml.sample is out of date: run `stratus policy sample " \
                                 "--output-file etc/policy.yaml.sample`"
    uncommented = "\n".join(line[1:] for line in text.splitlines() if line.startswith('#"'))
    loaded = yaml.safe_load(uncommented)
    assert loaded["identity:create_project"] == "rule:admin"
    assert len(loaded) == len({rule.name for rule in all_rules()})
