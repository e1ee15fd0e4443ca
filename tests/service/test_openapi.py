"""The OpenAPI document matches the service: same routes, valid examples, real answers fit it."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from handoff_component.service.app import create_app
from handoff_component.service.openapi import load_openapi
from handoff_component.service.settings import Settings
from tests.service.support import RunningService

DOC = load_openapi()
METHODS = {"get", "post", "put", "patch", "delete"}
# Pages of the Inbox (HTML and static assets), not API operations.
PAGE_PREFIXES = ("/inbox",)


def documented_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in DOC["paths"].items()
        for method in item
        if method in METHODS
    }


def registered_operations() -> set[tuple[str, str]]:
    app = create_app(Settings(app_name="openapi_routes_check", demo=True))
    found = set()
    for route in app.router.routes:
        path = "/" + re.sub(r"<(\w+)(:[^>]+)?>", r"{\1}", route.path)
        if path.startswith(PAGE_PREFIXES):
            continue
        for method in route.methods:
            if method not in ("HEAD", "OPTIONS"):
                found.add((method, path))
    return found


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    documented, registered = documented_operations(), registered_operations()

    assert registered - documented == set(), "routes missing from openapi.yml"
    assert documented - registered == set(), "openapi.yml documents routes the app lacks"


def test_operation_ids_are_unique_and_every_operation_answers_errors_in_one_shape() -> None:
    ids = [
        operation["operationId"]
        for item in DOC["paths"].values()
        for method, operation in item.items()
        if method in METHODS
    ]

    assert len(ids) == len(set(ids))
    assert DOC["openapi"] == "3.1.0"


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    root = {**schema, "components": DOC["components"]}
    return Draft202012Validator(root)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        _, *parts = node["$ref"].split("/")
        target: Any = DOC
        for part in parts:
            target = target[part]
        node = target
    return node


def request_examples() -> list[tuple[str, dict[str, Any], Any]]:
    found = []
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            if method not in METHODS or "requestBody" not in operation:
                continue
            body = _resolve(operation["requestBody"])
            media = body["content"].get("application/json")
            if media is None:  # raw bytes (an upload): no JSON parser to check
                continue
            found.append((f"{method.upper()} {path}", operation, media))
    return found


@pytest.mark.parametrize(
    ("name", "operation", "media"), request_examples(), ids=[e[0] for e in request_examples()]
)
def test_request_examples_fit_their_schema_and_the_services_own_parser(
    name: str, operation: dict[str, Any], media: dict[str, Any]
) -> None:
    example = media["example"]

    errors = sorted(_validator(media["schema"]).iter_errors(example), key=str)
    assert errors == [], f"{name}: {errors[0].message if errors else ''}"
    module_name, _, attribute = operation["x-handoff-parser"].partition(":")
    parser: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        parser = getattr(parser, part)
    if operation.get("x-handoff-parser-partial"):
        parser(example, partial=True)
    else:
        parser(example)


def _fits(reply_body: Any, path: str, method: str, status: str) -> None:
    response = _resolve(DOC["paths"][path][method]["responses"][status])
    schema = response["content"]["application/json"]["schema"]
    errors = list(_validator(schema).iter_errors(reply_body))
    assert errors == [], f"{method} {path} {status}: {errors[0].message}"


async def test_real_answers_fit_the_documented_schemas(service: RunningService) -> None:
    sam = await service.attendant("sam", role="supervisor", teams=["support"])
    created = await service.handoff("conv-1")
    ticket_id = created.body["ticket"]["id"]
    await sam.post(f"/api/tickets/{ticket_id}/claim")
    replied = await sam.post(f"/api/tickets/{ticket_id}/reply", {"text": "hello"})
    await sam.post(f"/api/tickets/{ticket_id}/notes", {"text": "note"})
    refused = await sam.post(f"/api/tickets/{ticket_id}/claim")

    _fits(created.body, "/api/handoffs", "post", "201")
    _fits(replied.body, "/api/tickets/{ticket_id}/reply", "post", "201")
    _fits((await sam.get("/api/tickets")).body, "/api/tickets", "get", "200")
    _fits(
        (await sam.get(f"/api/tickets/{ticket_id}")).body, "/api/tickets/{ticket_id}", "get", "200"
    )
    _fits((await sam.get("/api/metrics")).body, "/api/metrics", "get", "200")
    _fits((await sam.get("/api/teams")).body, "/api/teams", "get", "200")
    _fits(refused.body, "/api/tickets/{ticket_id}/claim", "post", "409")


async def test_the_document_is_served(service: RunningService) -> None:
    reply = await service.call("GET", "/openapi.json")

    assert reply.status == 200
    assert reply.body == DOC
