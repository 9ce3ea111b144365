"""Teacher answers: observation text -> plan distribution, stored as JSON answer files.

An answer file (the shipped ones live in planners/answers/<task>.json) is::

    {"task": "KeyInBox", "about": "...",
     "entries": {"Agent sees <box>, holds <nothing>.": {
         "plans": [["go to <box>, toggle <box>", 0.7], ["explore", 0.3]],
         "model": "SmolLM2-135M-Instruct.Q4_1.gguf via llama.cpp", "n_ask": 10,
         "candidates": [...], "replies": [...], "invalid": 0, "system": "...", "user": "..."}}}

Texts are keyed in the mediator's canonical object order (keys, boxes, doors). ColoredDoorKey's
shipped entries are keyed by the abstract form (<color1 key>, ...: colours numbered by first
appearance) and made concrete when looked up; a live run records the concrete texts it asked.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from planners.mediator import abstract_colours, concretize, make_text, sort_key, split_text
from utils.errors import UserError

SHIPPED_DIR = Path(__file__).resolve().parent / "answers"
# the original authors' recorded Vicuna answers and the candidate plans their prompts offered
PUBLISHED_TABLES = SHIPPED_DIR / "original_published.json"
PUBLISHED_MODEL = "vicuna-7b-v1.5 (recorded by the original authors, published tables)"
# tasks that use another task's published tables: LavaDoorKey reused SimpleDoorKey's answers in
# the original; DynamicDoorKey (ours) shares SimpleDoorKey's texts, so its prompts offer the same
# candidate plans, but its answers are recorded from an LLM
# RandomColoredDoorKey (ours) shows ColoredDoorKey's texts in abstract form (<color1 key>, ...), so
# it is offered the same candidates and answered from the same published tables
CHOICE_ALIASES = {"LavaDoorKey": "simpledoorkey", "DynamicDoorKey": "simpledoorkey",
                  "RandomColoredDoorKey": "coloreddoorkey"}
ANSWER_ALIASES = {"LavaDoorKey": "simpledoorkey", "RandomColoredDoorKey": "coloreddoorkey"}

def canonical_text(text: str) -> str:
    """The same text with its objects in the mediator's order (keys, boxes, doors)."""
    seen, held = split_text(text)
    return make_text(sorted(seen, key=sort_key), held)


def _kind(name: str) -> str:
    return name.split()[-1].rstrip("0123456789")


def generated_candidates(text: str) -> list[str]:
    """Candidate plans for a text the published tables do not list (built from its objects)."""
    seen, held = split_text(text)
    keys = [o for o in seen if _kind(o) == "key"]
    boxes = [o for o in seen if _kind(o) == "box"]
    doors = [o for o in seen if _kind(o) == "door"]
    out = ["explore"]
    if held is None:
        out += [f"go to <{k}>, pick up <{k}>" for k in keys]
        out += [f"go to <{b}>, toggle <{b}>" for b in boxes]
        out += [f"go to <{k}>, pick up <{k}>, go to <{d}>, open <{d}>" for k in keys for d in doors]
        out += [f"go to <{d}>, open <{d}>" for d in doors]
    else:
        out += [f"go to <{d}>, open <{d}>" for d in doors]
        out += [f"drop <{held}>, go to <{k}>, pick up <{k}>" for k in keys]
        out += [f"drop <{held}>, go to <{b}>, toggle <{b}>" for b in boxes]
        out.append(f"drop <{held}>")
    return out


def _published_task(published: dict[str, Any], task: str, aliases: dict[str, str]
                    ) -> dict[str, Any]:
    return published["tasks"].get(aliases.get(task, task.lower()), {})


def published_choices(published: dict[str, Any], task: str) -> dict[str, list[str]]:
    """Canonical text -> the candidate plans the original prompts offered for it."""
    table = _published_task(published, task, CHOICE_ALIASES).get("choices", {})
    return {canonical_text(t): [p.strip() for p in plans] for t, plans in table.items()}


def candidates_for(text: str, choices: dict[str, list[str]]) -> list[str]:
    """The candidate plans offered with a text: the original's list if it has one, else ours.

    ``text`` may be concrete (ColoredDoorKey colours): the abstract form is looked up and the
    plans are made concrete again.
    """
    pattern, mapping = abstract_colours(text)
    if pattern in choices:
        return [concretize(p, mapping) for p in choices[pattern]]
    return generated_candidates(text)


class AnswerBook:
    """Plan distributions per text, from an answer file; lookup by exact text, then abstract form."""

    def __init__(self, task: str, entries: dict[str, dict[str, Any]], source: str) -> None:
        self.task, self.entries, self.source = task, entries, source

    @classmethod
    def load(cls, task: str, path: Path | None = None) -> AnswerBook:
        path = Path(path) if path else SHIPPED_DIR / f"{task.lower()}.json"
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise UserError(f"no answer file at {path}") from None
        except IsADirectoryError:
            raise UserError(f"answer file {path} is a directory: give a JSON file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"answer file {path} is not valid JSON ({exc})") from None
        except OSError as exc:
            raise UserError(f"answer file {path} cannot be read ({exc.strerror})") from None
        if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
            raise UserError(f"answer file {path} has no 'entries' table")
        if data.get("task") not in (None, task):
            raise UserError(f"answer file {path} is for task {data.get('task')}, not {task}")
        for text, entry in data["entries"].items():
            problem = entry_problem(entry)
            if problem:
                raise UserError(f"answer file {path}, entry {text!r}: {problem}")
        return cls(task, data["entries"], _shown(Path(path)))

    def lookup(self, text: str) -> list[tuple[str, float]] | None:
        entry = self.entries.get(text)
        mapping: dict[str, str] = {}
        if entry is None:
            pattern, mapping = abstract_colours(text)
            entry = self.entries.get(pattern)
        if entry is None or not entry.get("plans"):
            return None
        return [(concretize(p, mapping), float(q)) for p, q in entry["plans"]]

    def models(self) -> list[str]:
        return sorted({e.get("model", "?") for e in self.entries.values()})


def entry_problem(entry: Any) -> str | None:
    """What is wrong with one answer-file entry (None: nothing): its plans must be
    [plan text, probability] pairs, probabilities finite, >= 0 and not all 0, and at least one
    plan must hold an item the skills understand. (A plan with some items no skill understands
    is an LLM's answer as recorded: those items make the agent wait, and the run's
    Teacher/Unparsed Plan Items counts them.)"""
    from planners.skills import parse_plan

    if not isinstance(entry, dict):
        return "an entry must be an object with a 'plans' list"
    plans = entry.get("plans")
    if not isinstance(plans, list):
        return "'plans' must be a list of [plan, probability] pairs"
    for pair in plans:
        if not (isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[0], str)
                and isinstance(pair[1], int | float) and not isinstance(pair[1], bool)):
            return f"plan {pair!r} is not a [plan text, probability] pair"
        if not math.isfinite(pair[1]) or pair[1] < 0:
            return f"plan {pair[0]!r} has probability {pair[1]}: it must be finite and >= 0"
    if plans and not sum(q for _, q in plans) > 0:
        return "its probabilities are all 0"
    parsed = [parse_plan(p) for p, _ in plans]
    if plans and all(pp.n_unparsed == len(pp.skills) for pp in parsed):
        return (f"no plan holds an item a skill understands ({plans[0][0]!r}, ...): the skills "
                "are explore, go to <x>, pick up <x>, drop <x>, open <x>, toggle <x>")
    return None


def _shown(path: Path) -> str:
    """A path as printed and recorded: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(SHIPPED_DIR.parents[1]))
    except ValueError:
        return str(path)


def write_answer_file(path: Path, task: str, entries: dict[str, dict[str, Any]], about: str) -> None:
    """Write atomically (temp file + rename): a kill never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"task": task, "about": about, "entries": dict(sorted(entries.items()))}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def entries_from_published(published: dict[str, Any], task: str) -> dict[str, dict[str, Any]]:
    """The published answer distributions of a task, keyed by canonical text."""
    table = _published_task(published, task, ANSWER_ALIASES)
    choices = published_choices(published, task)
    out = {}
    for text, plans in table.get("answers", {}).items():
        canon = canonical_text(text)
        out[canon] = {"plans": [[p.strip(), float(q)] for p, q in plans],
                      "model": PUBLISHED_MODEL,
                      "candidates": choices.get(canon, [p.strip() for p, _ in plans])}
    return out
