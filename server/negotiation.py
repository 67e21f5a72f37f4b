"""Content negotiation for the views; the logic lives in `kg.negotiation` so query executors share it."""

from kg.negotiation import HTML, Offer, by_key, choose, parse_accept

__all__ = ["HTML", "Offer", "by_key", "choose", "parse_accept"]
