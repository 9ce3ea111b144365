"""Teacher/... scalars for TensorBoard and the CSV: LLM calls, invalid replies, cache hits."""

from __future__ import annotations

TEACHER_KEYS = ("Teacher/LLM Calls", "Teacher/Invalid Replies", "Teacher/Truncated Replies",
                "Teacher/Cache Hits", "Teacher/Texts Asked", "Teacher/Unusable Texts",
                "Teacher/Unparsed Plan Items")


def teacher_scalars(teacher) -> dict[str, float]:
    """Cumulative counters of a Teacher's planner and skills."""
    p, s = teacher.planner.stats, teacher.stats
    values = (p.llm_calls, p.invalid_replies, p.truncated_replies, p.cache_hits, p.texts_asked,
              p.unusable_texts, s.unparsed_plan_items)
    return dict(zip(TEACHER_KEYS, map(float, values), strict=True))
