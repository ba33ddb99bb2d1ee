"""A local stand-in for Stripe: its API for the SDK, its hosted checkout page, and signed webhooks.

Answers are built from Stripe's own example objects (fixtures.json), overriding only what a request
sets, so our code meets the shapes Stripe really sends. It keeps everything in memory.
"""

from .server import RecordedRequest, StripeStandIn

__all__ = ["RecordedRequest", "StripeStandIn"]
