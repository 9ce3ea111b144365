"""Student networks (and IHAC's teacher critic)."""

from models.acmodel import ACModel, TeacherCritic, network_options

__all__ = ["ACModel", "TeacherCritic", "network_options"]
