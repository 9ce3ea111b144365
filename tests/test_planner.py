"""The planner without a server: reply parsing, shipped answers, candidates, prompts, noise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from envs import TASK_NAMES, make_env
from main import main
from planners.answers import (
    PUBLISHED_TABLES,
    AnswerBook,
    candidates_for,
    canonical_text,
    entries_from_published,
)
from planners.llm import LLMClient, LLMConfig, Reply, match_reply
from planners.mediator import enumerate_texts, perceive
from planners.planner import Planner
from planners.prompts import system_message, user_message
from planners.teacher import Teacher, TeacherConfig
from utils.errors import UserError

PUBLISHED = PUBLISHED_TABLES
CANDS = ["explore", "go to <key>, pick up <key>", "pick up <key>",
         "go to <key>, pick up <key>, go to <door>, open <door>"]


@pytest.mark.parametrize("reply,expected", [
    ("go to <key>, pick up <key>", "go to <key>, pick up <key>"),
    ("Go to <Key>, pick up <key>.", "go to <key>, pick up <key>"),
    ('"explore"', "explore"),
    ("Answer: pick up <key>", "pick up <key>"),
    ("The next rational action is: explore", "explore"),
    ("1. go to <key>, pick up <key>\n2. go to <door>", "go to <key>, pick up <key>"),
    ("I would go to <key>, pick up <key>, go to <door>, open <door> because the door is locked.",
     "go to <key>, pick up <key>, go to <door>, open <door>"),
    ('{"plan": "pick up <key>"}', "pick up <key>"),
    ('{\n\n"plan"\n\n:\n\n"explore"\n\n}', "explore"),
    ("  **explore**  ", "explore"),
    # a base model's continuation: the answer, then an echo of the prompt on the next lines
    (' go to <key>, pick up <key>\nObservation: Agent sees <key>, holds <nothing>. Choose the '
     'next rational action from ["explore", "go to <key>, pick up <key>", "pick up <key>"].',
     "go to <key>, pick up <key>"),
])
def test_messy_replies_map_onto_candidates(reply: str, expected: str):
    assert match_reply(reply, CANDS) == expected


@pytest.mark.parametrize("reply", [
    "", "The agent has reached the end of its task.",
    "Pick up a container that contains <something>.", '{"plan": 3}', "go to east",
    # echoes of the prompt name every candidate: not a choice
    'Observation: Agent sees <key>, holds <nothing>. Choose the next rational action from '
    '["explore", "go to <key>, pick up <key>", "pick up <key>"]. No further explanation.',
    'Choose the next rational action from ["explore", "go to <key>, pick up <key>, go to <door>, '
    'open <door>"]',
    "explore, or go to <key>, pick up <key>"])
def test_unusable_replies_are_none(reply: str):
    assert match_reply(reply, CANDS) is None


@pytest.mark.parametrize("reply", [
    "go to <key> and pick up <key>",  # a plan of its own: not a candidate, however sensible
    "go to the key and pick it up",
    "go to <key, pick up <key>, go to <door, open <door> with <key>",  # broken brackets
])
def test_a_reply_naming_no_candidate_exactly_is_unusable(reply: str):
    assert match_reply(reply, CANDS) is None


@pytest.mark.parametrize("reply,expected", [
    # named in full, and the cut cannot have led to another candidate
    ("go to <key>, pick up <key>, go to <door>, open <door> because the door is", CANDS[3]),
    ("pick up <key>\nThe agent is next to the key and should now take it so that", CANDS[2]),
    # cut right after a candidate that a longer one extends: it may have gone on
    ("go to <key>, pick up <key>", None),
    ("I think the agent should go to <key>, pick up <key>, go to", None),
    # an echo of the prompt cut at the limit names the first candidate only: unusable
    ('Observation: Agent sees <key>, holds <nothing>. Choose the next rational action from '
     '["explore", "go to <key>, pick', None),
    ("explore the room, because", "explore"),
])
def test_a_reply_cut_at_the_token_limit_counts_only_if_it_named_one_candidate(reply, expected):
    assert match_reply(reply, CANDS, truncated=True) == expected


def _client(**kw) -> LLMClient:
    return LLMClient(LLMConfig(url="http://127.0.0.1:9/v1", constrain=True, **kw))


def test_a_server_that_ignores_the_schema_stops_the_run_by_default():
    client = _client()
    with pytest.raises(UserError, match="ignores --llm_constrain's JSON schema"):
        client._check_schema(Reply("go to <key>, pick up <key>", False), CANDS)


def test_a_server_that_ignores_the_schema_can_be_parsed_as_free_text(capsys):
    client = _client(unconstrained="free_text")
    client._check_schema(Reply("Answer: explore", False), CANDS)
    assert client.schema == "ignored" and not client.constrained
    assert "going on with free-text parsing" in capsys.readouterr().err
    honoured = _client()
    honoured._check_schema(Reply('{"plan": "explore"}', False), CANDS)
    assert honoured.schema == "honoured" and honoured.constrained
    cut = _client()
    cut._check_schema(Reply('{"plan": "go to <key>, pi', True), CANDS)  # cut: undecided
    cut._check_schema(Reply("```", True), CANDS)
    assert cut.schema == "unchecked"
    fenced = _client()
    fenced._check_schema(Reply('```json\n{"plan": "explore"}\n```', False), CANDS)
    assert fenced.schema == "honoured"


def test_a_text_with_one_candidate_makes_no_call(tmp_path: Path):
    # the URL has no server: a call would fail
    planner = Planner("SimpleDoorKey", llm=LLMClient(LLMConfig(url="http://127.0.0.1:9/v1",
                                                               retry_seconds=0)),
                      record_path=tmp_path / "llm_answers.json",
                      choices={"Agent sees <door>, holds <nothing>.": ["explore"]})
    assert planner.distribution("Agent sees <door>, holds <nothing>.") == [("explore", 1.0)]
    assert planner.stats.llm_calls == 0 and planner.stats.single_candidate_texts == 1
    entry = json.loads((tmp_path / "llm_answers.json").read_text())["entries"][
        "Agent sees <door>, holds <nothing>."]
    assert entry["plans"] == [["explore", 1.0]] and entry["n_ask"] == 0 and entry["replies"] == []
    assert "1 texts had one candidate (no call)" in planner.fallback_summary()


@pytest.mark.parametrize("task", TASK_NAMES)
def test_shipped_answers_cover_every_text_the_mediator_can_produce(task: str):
    book = AnswerBook.load(task)
    for text in enumerate_texts(task):
        dist = book.lookup(text)
        assert dist, f"{task}: no answer for {text!r}"
        assert abs(sum(q for _, q in dist) - 1) < 0.02
        assert book.entries[text]["model"]


def test_coloured_texts_find_their_abstract_answers():
    book = AnswerBook.load("ColoredDoorKey")
    dist = book.lookup("Agent sees <green key>, <blue key>, <blue door>, holds <nothing>.")
    # published: 0.72 for the door's key (color2 here = blue)
    assert dist[0] == ("go to <blue key>, pick up <blue key>", pytest.approx(0.72))


@pytest.mark.parametrize("task", ["SimpleDoorKey", "ColoredDoorKey", "TwoDoor", "LavaDoorKey"])
def test_shipped_files_hold_the_published_distributions(task: str):
    published = json.loads(PUBLISHED.read_text())
    book = AnswerBook.load(task)
    for text, entry in entries_from_published(published, task).items():
        assert book.entries[text]["plans"] == entry["plans"]


def test_published_texts_are_reordered_into_the_mediator_order():
    assert canonical_text("Agent sees <door>, <key>, holds <nothing>.") == \
        "Agent sees <key>, <door>, holds <nothing>."
    assert canonical_text("Agent sees <box>, <door>, <key>, holds <nothing>.") == \
        "Agent sees <key>, <box>, <door>, holds <nothing>."


def test_candidates_and_prompts():
    book = AnswerBook.load("ColoredDoorKey")
    choices = {t: e["candidates"] for t, e in book.entries.items() if e.get("candidates")}
    cands = candidates_for("Agent sees <red key>, holds <nothing>.", choices)
    assert cands == ["go to <red key>, pick up <red key>", "pick up <red key>"]
    for task in TASK_NAMES:
        system = system_message(task)
        assert "Example" in system and "Answer:" in system
    user = user_message("Agent sees <key>, holds <nothing>.", cands)
    assert user.endswith("No further explanation.") and '"pick up <red key>"' in user


def test_missing_text_without_llm_is_a_clear_error():
    planner = Planner("SimpleDoorKey", book=AnswerBook("SimpleDoorKey", {}, "empty.json"))
    with pytest.raises(UserError, match="no teacher answer"):
        planner.distribution("Agent sees <key>, holds <nothing>.")


def obs_with_key_in_view() -> np.ndarray:
    env = make_env("SimpleDoorKey").unwrapped
    for seed in range(100):
        obs, _ = env.reset(seed=seed)
        if "<key>" in perceive("SimpleDoorKey", obs).text.split("holds")[0]:
            return obs
    raise AssertionError("no seed shows a key at reset")


def test_hard_and_soft_planners_output_distributions():
    obs = obs_with_key_in_view()
    hard = Teacher("SimpleDoorKey", Planner("SimpleDoorKey", AnswerBook.load("SimpleDoorKey")))
    soft = Teacher("SimpleDoorKey", Planner("SimpleDoorKey", AnswerBook.load("SimpleDoorKey")),
                   TeacherConfig(soft=True))
    for teacher in (hard, soft):
        p = teacher.action_probs(obs)
        assert p.shape == (7,) and p.sum() == pytest.approx(1) and (p >= 0).all()
    assert sorted(hard.action_probs(obs)) == [0, 0, 0, 0, 0, 0, 1]  # one plan sampled


def test_noise_options_change_the_teacher_only_when_on():
    obs = obs_with_key_in_view()
    book = AnswerBook.load("SimpleDoorKey")
    quiet = Teacher("SimpleDoorKey", Planner("SimpleDoorKey", book), TeacherConfig(soft=True))
    noisy = Teacher("SimpleDoorKey", Planner("SimpleDoorKey", book),
                    TeacherConfig(soft=True, pi_noise="gaussian", pi_noise_ratio=5.0), seed=1)
    p0 = quiet.action_probs(obs)
    assert np.allclose(p0, quiet.action_probs(obs))  # no noise: the same every step
    p1 = noisy.action_probs(obs)
    assert p1.sum() == pytest.approx(1) and not np.allclose(p0, p1)
    corrupt = Teacher("SimpleDoorKey", Planner("SimpleDoorKey", book),
                      TeacherConfig(llm_noise="gaussian", llm_noise_ratio=50.0), seed=2)
    texts = {corrupt._noisy_text("Agent sees <key>, <door>, holds <nothing>.") for _ in range(50)}
    assert len(texts) > 1 and all(t.startswith("Agent sees") for t in texts)


def test_uniform_planner_spreads_over_the_offered_candidates():
    book = AnswerBook.load("ColoredDoorKey")
    choices = {t: e["candidates"] for t, e in book.entries.items() if e.get("candidates")}
    planner = Planner("ColoredDoorKey", uniform=True, choices=choices)
    text = "Agent sees <red key>, <blue key>, <blue door>, holds <nothing>."
    dist = planner.distribution(text)
    assert [p for p, _ in dist] == candidates_for(text, choices)
    assert all(q == pytest.approx(1 / len(dist)) for _, q in dist) and len(dist) > 1
    assert "uniform" in planner.describe() and planner.stats.llm_calls == 0


def test_uniform_planner_flag(tmp_path: Path, capsys):
    args = ["eval", "--task", "SimpleDoorKey", "--loaddir", "t", "--savedir", "u",
            "--logdir", str(tmp_path), "--eval_teacher", "--uniform_planner", "--num_eval", "2",
            "--num_videos", "0", "--num_envs", "2"]
    assert main(args) == 0
    results = json.loads((tmp_path / "ppo" / "simpledoorkey" / "t" / "u" / "results.json")
                         .read_text())
    assert "uniform" in results["source"]
    assert main([*args, "--llm_url", "http://127.0.0.1:1/v1"]) == 2
    assert "--uniform_planner" in capsys.readouterr().err
