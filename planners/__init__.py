"""The LLM teacher (mediator, skills, planner, meta-controller): built on top of the student."""
