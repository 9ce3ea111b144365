"""python main.py answers: record the teacher's answers for every text a task can produce.

    python main.py answers --task KeyInBox --llm_url http://127.0.0.1:8080/v1 --n_ask 10
    python main.py answers --task ColoredDoorKey --from_published published_teacher_answers.json \\
        --out planners/answers/coloreddoorkey.json   # the original authors' tables, no LLM
    python main.py answers --task ColoredDoorKey --llm_url ... --update \\
        --out planners/answers/coloreddoorkey.json   # ask only for the texts still missing

Texts with colours (ColoredDoorKey) are enumerated in abstract form (<color1 key>, ...); they are
asked with concrete colours and the answers are stored in abstract form again.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from planners import build_planner
from planners.answers import (
    AnswerBook,
    entries_from_published,
    published_choices,
    write_answer_file,
)
from planners.mediator import concretize, enumerate_texts
from utils.config import AnswersConfig
from utils.errors import UserError

# colours used to ask about abstract ColoredDoorKey texts
EXAMPLE_COLOURS = {"color1": "red", "color2": "blue"}


def _abstract(s: str, mapping: dict[str, str]) -> str:
    for placeholder, colour in mapping.items():
        s = re.sub(rf"\b{colour}\b", placeholder, s)
    return s


def run(cfg: AnswersConfig) -> None:
    out = Path(cfg.out) if cfg.out else Path(cfg.logdir) / "answers" / f"{cfg.task.lower()}.json"
    if not (cfg.llm_url or cfg.from_published):
        raise UserError("the answers command needs --llm_url (an OpenAI-compatible server) and/or "
                        "--from_published (the original authors' tables)")
    texts = enumerate_texts(cfg.task)
    entries: dict = {}
    if cfg.update and out.exists():
        entries = dict(AnswerBook.load(cfg.task, out).entries)
    planner = build_planner(cfg) if cfg.llm_url else None
    if planner is not None:
        planner.progress = False  # this command prints its own line per text
    if cfg.from_published:
        try:
            published = json.loads(Path(cfg.from_published).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"cannot read --from_published {cfg.from_published}: {exc}") from None
        entries.update(entries_from_published(published, cfg.task))
        if planner is not None:  # offer the original's candidate plans where it had them
            planner.choices.update(published_choices(published, cfg.task))
    if planner is not None:
        print(planner.describe(), flush=True)
        missing = [t for t in texts if t not in entries]
        for k, text in enumerate(missing, 1):
            entries[text] = _ask(planner, text)
            best = max(entries[text]["plans"], key=lambda pq: pq[1])
            print(f"[{k}/{len(missing)}] {text} -> {best[0]!r} ({best[1]:.2f}); "
                  f"{entries[text]['invalid']} unusable ({entries[text]['truncated']} cut off) "
                  f"of {len(entries[text]['replies'])} replies", flush=True)
            write_answer_file(out, cfg.task, entries, _about(entries))
    write_answer_file(out, cfg.task, entries, _about(entries))
    covered = sum(t in entries for t in texts)
    print(f"wrote {out}: {len(entries)} texts; covers {covered} of the {len(texts)} texts "
          f"{cfg.task} can produce", flush=True)


def _ask(planner, text: str) -> dict:
    """Ask about one text; abstract texts are asked with example colours, stored abstract."""
    concrete = concretize(text, EXAMPLE_COLOURS)
    planner.distribution(concrete)
    entry = dict(planner.recorded[concrete])
    if concrete != text:
        entry["plans"] = [[_abstract(p, EXAMPLE_COLOURS), q] for p, q in entry["plans"]]
        entry["candidates"] = [_abstract(c, EXAMPLE_COLOURS) for c in entry["candidates"]]
        entry["asked_with_colours"] = EXAMPLE_COLOURS
    return entry


def _about(entries: dict) -> str:
    models = sorted({e.get("model", "?") for e in entries.values()})
    return "Teacher answers; the model behind each entry is in its 'model' field: " + \
        "; ".join(models)
