"""docs/openapi.json: generated from the handlers, up to date, and naming every route of template.yaml."""

from __future__ import annotations

import json

from blockhours_dev import openapi
from blockhours_dev.template import http_routes, load_template


def test_the_committed_description_is_up_to_date() -> None:
    committed = openapi.DOCUMENT_PATH.read_text(encoding="utf-8")
    assert committed == openapi.rendered(), (
        "docs/openapi.json is out of date: run .venv/bin/python -m blockhours_dev.openapi"
    )


def test_it_describes_exactly_the_routes_of_the_template() -> None:
    described = json.loads(openapi.DOCUMENT_PATH.read_text(encoding="utf-8"))
    operations = {(method.upper(), path) for path, ops in described["paths"].items() for method in ops}
    routes = {(route.method, route.path) for route in http_routes(load_template())}
    assert operations == routes


def test_every_refusal_is_documented_with_the_error_body_and_staff_routes_need_iam() -> None:
    described = json.loads(openapi.DOCUMENT_PATH.read_text(encoding="utf-8"))
    staff = {(route.method, route.path) for route in http_routes(load_template()) if route.iam_auth}
    for path, ops in described["paths"].items():
        for method, operation in ops.items():
            statuses = sorted(int(status) for status in operation["responses"])
            assert 200 <= statuses[0] < 300 and all(s < 500 for s in statuses), (method, path, statuses)
            assert 422 not in statuses, "Powertools' 422 is answered as 400 by handlers/http.py"
            for status in statuses[1:]:
                schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
                # API Gateway's own throttle answer is {"message"}; every refusal of ours is {"error", "message"}
                kind = "GatewayMessage" if status == 429 else "Error"
                assert schema == {"$ref": f"#/components/schemas/{kind}"}, (method, path, status)
            is_staff = (method.upper(), path) in staff
            assert ("security" in operation) == is_staff and (403 in statuses) == is_staff, (method, path)
            if "requestBody" in operation:
                assert {400, 413} <= set(statuses), (method, path)
    assert described["components"]["schemas"]["Error"]["required"] == ["error", "message"]
