"""The local stack throttles ScreenConnect's route as the deployed template says: the route's RouteSettings in
template.yaml, read by the local API, a 429 `{"message":"Too Many Requests"}` once the burst is spent (on a stack
of its own, so the spent bucket slows no other test)."""

from __future__ import annotations

import time

import requests

from blockhours_dev import template
from blockhours_dev.local import LocalStack
from blockhours_dev.local_api import TokenBucket

ROUTE = "/api/integrations/screenconnect/events/{secret}"


def route_throttle() -> template.Throttle:
    [route] = [r for r in template.http_routes() if r.path == ROUTE]
    assert route.throttle is not None, "the route has its own RouteSettings in template.yaml"
    return route.throttle


def test_the_template_gives_the_route_its_own_throttle_and_the_bucket_refills_at_its_rate() -> None:
    throttle = route_throttle()
    events = template.load_template()["Resources"]["ApiFunction"]["Properties"]["Events"]
    settings = events["ScreenConnectEvent"]["Properties"]["RouteSettings"]
    assert (throttle.burst, throttle.rate) == (settings["ThrottlingBurstLimit"], settings["ThrottlingRateLimit"])
    clock = [0.0]
    bucket = TokenBucket(throttle, clock=lambda: clock[0])
    assert all(bucket.take() for _ in range(throttle.burst)) and not bucket.take()
    clock[0] += 1 / throttle.rate
    assert bucket.take() and not bucket.take()


def test_the_local_stack_answers_429_past_the_templates_burst(own_stack: LocalStack) -> None:
    throttle = route_throttle()
    url = f"{own_stack.url}/api/integrations/screenconnect/events/{'x' * 43}"
    began, accepted = time.monotonic(), 0
    for _ in range(throttle.burst + 200):
        answer = requests.post(url, json={}, timeout=30)
        if answer.status_code == 429:
            break
        assert answer.status_code == 404, answer.text  # a wrong secret: refused by the function, nothing written
        accepted += 1
    elapsed = time.monotonic() - began
    assert answer.status_code == 429 and answer.json() == {"message": "Too Many Requests"}
    assert throttle.burst <= accepted <= throttle.burst + throttle.rate * elapsed + 1
