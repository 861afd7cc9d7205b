"""Request parsing and JSON-schema validation, and the schema metadata OpenAPI is built from.

Decorate a falcon responder with :func:`schema`; the request body is validated against
``request`` before the responder runs (the parsed body is ``req.context.body``), and
``responses`` documents what it returns — the OpenAPI document and the tests use both.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import falcon
import jsonschema
from jsonschema import Draft202012Validator

from stratus.exceptions import Invalid, PayloadTooLarge

#: responders carry their :class:`OperationSchema` here; resources whose schemas differ per
#: instance set ``operation_schemas = {"get": OperationSchema(...)}`` instead
SCHEMA_ATTR = "__stratus_schema__"


@dataclass(frozen=True)
class OperationSchema:
    summary: str
    request: Mapping[str, Any] | None = None
    responses: Mapping[int, Mapping[str, Any] | None] = field(default_factory=dict)
    query: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    request_content_type: str = "application/json"


def body_stream(req: falcon.Request) -> Any:
    """The request body as a file-like object, for bodies with or without Content-Length.

    falcon's ``bounded_stream`` reads nothing when there is no Content-Length; a chunked
    body arrives that way, and servers that de-chunk it (gunicorn) say so with
    ``wsgi.input_terminated``: then the raw stream ends where the body ends.
    """
    if req.content_length is None and req.env.get("wsgi.input_terminated"):
        return req.stream
    return req.bounded_stream


def read_body(req: falcon.Request) -> bytes:
    """Read the whole body, refusing more than the route's limit (set by the middleware)."""
    limit = getattr(req.context, "max_body_size", None)
    if limit is not None and req.content_length is not None and req.content_length > limit:
        raise PayloadTooLarge(f"Request is too large: {req.content_length} bytes, the limit is {limit}.")
    stream = body_stream(req)
    data = stream.read(limit + 1) if limit is not None else stream.read()
    if limit is not None and len(data) > limit:
        raise PayloadTooLarge(f"Request is too large: more than {limit} bytes.")
    return data


def read_json(req: falcon.Request) -> Any:
    """Parse the body as JSON. :raises Invalid: empty or malformed body."""
    data = read_body(req)
    if not data.strip():
        raise Invalid("Malformed request body: the body is empty, a JSON document is required.")
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid(f"Malformed request body: {exc}") from None


def _path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        parts.append(missing)
    elif error.validator == "additionalProperties" and "'" in error.message:
        parts.append(error.message.split("'")[1])
    return "/".join(p for p in parts if p) or "body"


def validate(schema: Mapping[str, Any], instance: Any) -> None:
    """Validate ``instance``; raise :class:`Invalid` naming the offending field.

    The message follows Nova's: ``Invalid input for field/attribute server/name. Value: 7.
    7 is not of type 'string'``.
    """
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is None:
        return
    value = json.dumps(error.instance, default=str)
    if len(value) > 200:
        value = value[:200] + "..."
    raise Invalid(f"Invalid input for field/attribute {_path(error)}. Value: {value}. {error.message}")


def schema(
    summary: str,
    request: Mapping[str, Any] | None = None,
    responses: Mapping[int, Mapping[str, Any] | None] | None = None,
    query: Mapping[str, Mapping[str, Any]] | None = None,
) -> Callable:
    """Attach an :class:`OperationSchema` to a responder and validate its request body."""
    op = OperationSchema(summary, request, dict(responses or {}), dict(query or {}))

    def decorate(responder: Callable) -> Callable:
        if request is None:
            setattr(responder, SCHEMA_ATTR, op)
            return responder

        @functools.wraps(responder)
        def wrapper(self: Any, req: falcon.Request, resp: falcon.Response, **params: Any) -> Any:
            body = read_json(req)
            validate(request, body)
            req.context.body = body
            return responder(self, req, resp, **params)

        setattr(wrapper, SCHEMA_ATTR, op)
        return wrapper

    return decorate
