"""The planner: observation text -> plan distribution, cached per text.

Sources, in order: an answer book (the shipped file of the task, or --answers_file), then a live
LLM (--llm_url) for texts the book lacks. ``uniform`` (--uniform_planner) replaces both by the
uniform distribution over the candidate plans offered with each text: the no-LLM control.
With a live LLM every new text is asked n_ask times; the empirical frequencies of its usable
replies form the distribution; every prompt and reply is recorded in an answer file (in the run
directory) that a later run can load to make zero calls; when the run also started from an
answer file, the recorded file holds that file's entries too, so it replays the whole run alone.
Each text asked prints one progress line.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planners.answers import AnswerBook, candidates_for, write_answer_file
from planners.llm import LLMClient, match_reply
from planners.prompts import system_message, user_message
from utils.errors import UserError


@dataclass
class PlannerStats:
    """Counters logged to TensorBoard (Teacher/...)."""

    llm_calls: int = 0        # chat completions sent
    invalid_replies: int = 0  # replies that named no single candidate (asked again)
    truncated_replies: int = 0  # replies cut at the token limit (a JSON one asked again first)
    cache_hits: int = 0       # distribution() answered from the per-text cache
    texts_asked: int = 0      # texts sent to the LLM
    unusable_texts: int = 0   # texts for which no reply at all was usable (uniform fallback)
    single_candidate_texts: int = 0  # texts with one candidate plan: probability 1, no call

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class Planner:
    task: str
    book: AnswerBook | None = None
    llm: LLMClient | None = None
    n_ask: int = 10
    max_reasks: int = 20            # extra asks allowed for unusable replies, per text
    record_path: Path | None = None  # where a live run writes every prompt and reply
    record_base: dict[str, dict[str, Any]] = field(default_factory=dict)  # answers it started from
    progress: bool = True            # one line per text asked of the LLM
    uniform: bool = False            # no LLM: every offered candidate plan equally likely
    choices: dict[str, list[str]] = field(default_factory=dict)  # the original's candidate lists
    stats: PlannerStats = field(default_factory=PlannerStats)
    _cache: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    _recorded: dict[str, dict[str, Any]] = field(default_factory=dict)

    def describe(self) -> str:
        """One line: which teacher source is used."""
        if self.uniform:
            return "teacher: no LLM, uniform over the candidate plans offered with each text"
        parts = []
        if self.book is not None:
            parts.append(f"answers from {self.book.source} (model: {', '.join(self.book.models())})")
        if self.llm is not None:
            constrained = (f", JSON schema of the candidates: {self.llm.describe_schema()}"
                           if self.llm.cfg.constrain else "")
            parts.append(f"live LLM {self.llm.cfg.model!r} at {self.llm.cfg.url} (n_ask "
                         f"{self.n_ask}{constrained})")
        return "teacher: " + ("; then ".join(parts) if parts else "no source")

    def distribution(self, text: str) -> list[tuple[str, float]]:
        """[(plan, probability), ...] for an observation text."""
        dist = self._cache.get(text)
        if dist is not None:
            self.stats.cache_hits += 1
            return dist
        if self.uniform:
            candidates = candidates_for(text, self.choices)
            dist = [(c, 1 / len(candidates)) for c in candidates]
            self._cache[text] = dist
            return dist
        dist = self.book.lookup(text) if self.book is not None else None
        if dist is None:
            dist = self._single_candidate(text)
        if dist is None:
            if self.llm is None:
                where = self.book.source if self.book is not None else "no answer file"
                raise UserError(f"no teacher answer for {text!r} in {where}; query an LLM with "
                                "--llm_url, or regenerate the file with python main.py answers")
            dist = self._ask(text)
        self._cache[text] = dist
        return dist

    def _single_candidate(self, text: str) -> list[tuple[str, float]] | None:
        """A text offered one candidate plan needs no LLM: probability 1, recorded as such."""
        candidates = candidates_for(text, self.choices)
        if len(candidates) != 1:
            return None
        self.stats.single_candidate_texts += 1
        if self.llm is not None:
            self._record(text, {"plans": [[candidates[0], 1.0]], "model": "none (one candidate)",
                                "n_ask": 0, "candidates": candidates, "replies": [],
                                "invalid": 0, "truncated": 0, "uniform_fallback": False})
        return [(candidates[0], 1.0)]

    def _ask(self, text: str) -> list[tuple[str, float]]:
        assert self.llm is not None
        candidates = candidates_for(text, self.choices)
        system, user = system_message(self.task), user_message(text, candidates)
        replies: list[str] = []
        valid: list[str] = []
        invalid = 0
        self.stats.texts_asked += 1
        truncated = 0
        t0 = time.perf_counter()
        while len(valid) < self.n_ask and len(replies) < self.n_ask + self.max_reasks:
            reply = self.llm.ask(system, user, candidates)
            self.stats.llm_calls += 1
            replies.append(reply.text)
            plan = None
            if reply.truncated:  # counted; usable only if it named one candidate before the cut
                truncated += 1
                self.stats.truncated_replies += 1
            if not (reply.truncated and self.llm.constrained):  # cut-off JSON: unusable
                plan = match_reply(reply.text, candidates, truncated=reply.truncated)
            if plan is None:
                invalid += 1
                self.stats.invalid_replies += 1
            else:
                valid.append(plan)
        if valid:
            counts = Counter(valid)
            dist = [(p, n / len(valid)) for p, n in counts.most_common()]
        else:  # said loudly, counted, and recorded as such: never silent
            self.stats.unusable_texts += 1
            print(f"warning: none of {len(replies)} LLM replies for {text!r} was usable; using the "
                  "uniform distribution over its candidate plans", file=sys.stderr)
            dist = [(c, 1 / len(candidates)) for c in candidates]
        self._record(text, {
            "plans": [[p, q] for p, q in dist], "model": self.llm.model_name or self.llm.cfg.model,
            "n_ask": self.n_ask, "candidates": candidates, "replies": replies, "invalid": invalid,
            "truncated": truncated, "uniform_fallback": not valid,
            "json_schema": self.llm.describe_schema(), "system": system, "user": user})
        if self.progress:
            s = self.stats
            print(f"LLM: {text!r} -> {len(valid)} usable of {len(replies)} replies in "
                  f"{time.perf_counter() - t0:.1f} s (so far: {s.texts_asked} texts, "
                  f"{s.llm_calls} calls, {s.invalid_replies} unusable)", flush=True)
        return dist

    def _record(self, text: str, entry: dict[str, Any]) -> None:
        """Keep one text's answers; with a record path, rewrite the answer file (atomically:
        a kill leaves every text before it complete)."""
        self._recorded[text] = entry
        if self.record_path is not None:
            about = f"Answers recorded from the live LLM at {self.llm.cfg.url}"
            if self.record_base:
                about += f", after the {len(self.record_base)} entries of {self.book.source}"
            write_answer_file(self.record_path, self.task, {**self.record_base, **self._recorded},
                              about + ".")

    def fallback_summary(self) -> str | None:
        """One line for the end of a run: how many texts fell back to the uniform distribution
        (None without a live LLM)."""
        if self.llm is None:
            return None
        s = self.stats
        return (f"teacher: {s.unusable_texts} of {s.texts_asked} texts asked of the LLM fell back "
                f"to the uniform distribution (no usable reply); {s.invalid_replies} of "
                f"{s.llm_calls} replies unusable, {s.truncated_replies} cut at the token limit; "
                f"{s.single_candidate_texts} texts had one candidate (no call); JSON schema: "
                f"{self.llm.describe_schema()}")

    @property
    def recorded(self) -> dict[str, dict[str, Any]]:
        return self._recorded

