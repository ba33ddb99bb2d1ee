"""What only runs on a laptop: the local stack, the Stripe stand-in, the embedded AWS, the CLI. Lambda never ships it.

It imports the shipped package (`blockhours`) absolutely; nothing in `blockhours` imports it back.
"""
