"""Student networks (and IHAC's teacher critic)."""

from models.acmodel import ACModel, TeacherCritic

__all__ = ["ACModel", "TeacherCritic"]
