"""Student networks."""

from models.acmodel import ACModel

__all__ = ["ACModel"]
