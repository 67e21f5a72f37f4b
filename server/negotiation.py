"""Content negotiation for the views; the logic lives in `kg.serve.negotiation` so query executors share it."""

from kg.serve.negotiation import HTML, Offer, by_key, choose, parse_accept, profiles

__all__ = ["HTML", "Offer", "by_key", "choose", "parse_accept", "profiles"]
