"""The planner against a REAL local LLM server (llama.cpp + SmolLM2-135M), through the openai client."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from main import main
from planners.answers import AnswerBook
from planners.llm import LLMClient, LLMConfig, LLMUnavailable
from planners.planner import Planner
from tests.llm_server import free_port, llama_server

TEXTS = ["Agent sees <key>, <door>, holds <nothing>.", "Agent sees <door>, holds <key>.",
         "Agent sees <nothing>, holds <nothing>."]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> str:
    with llama_server(tmp_path_factory.mktemp("llama") / "server.log") as url:
        yield url


def shipped_choices(task: str) -> dict[str, list[str]]:
    book = AnswerBook.load(task)
    return {t: e["candidates"] for t, e in book.entries.items() if e.get("candidates")}


def test_free_text_replies_are_mapped_or_counted_invalid(server: str, tmp_path: Path):
    record = tmp_path / "llm_answers.json"
    planner = Planner("SimpleDoorKey", llm=LLMClient(LLMConfig(url=server, max_tokens=32)),
                      n_ask=2, max_reasks=2, record_path=record,
                      choices=shipped_choices("SimpleDoorKey"))
    for text in TEXTS:
        dist = planner.distribution(text)
        assert dist and abs(sum(q for _, q in dist) - 1) < 1e-6
        entry = planner.recorded[text]
        assert entry["replies"] and all(isinstance(r, str) for r in entry["replies"])
        usable = len(entry["replies"]) - entry["invalid"]
        assert usable == min(2, usable) and (usable == 2 or len(entry["replies"]) == 4)
        if not entry["uniform_fallback"]:
            for plan, _ in dist:  # a candidate, or a plan of known skills on named objects
                assert plan in entry["candidates"] or planner._usable(plan, text)
    s = planner.stats
    assert s.llm_calls == sum(len(planner.recorded[t]["replies"]) for t in TEXTS)
    assert s.invalid_replies == sum(planner.recorded[t]["invalid"] for t in TEXTS)
    assert planner.distribution(TEXTS[0]) and s.cache_hits == 1  # cached: no new call
    assert s.llm_calls == sum(len(planner.recorded[t]["replies"]) for t in TEXTS)
    saved = json.loads(record.read_text())["entries"]
    assert set(saved) == set(TEXTS)
    assert all(e["system"] and e["user"] and e["model"] for e in saved.values())


def test_constrained_replies_are_always_candidates(server: str):
    planner = Planner("KeyInBox", llm=LLMClient(LLMConfig(url=server, constrain=True)), n_ask=3,
                      choices=shipped_choices("KeyInBox"))
    text = "Agent sees <box>, <door>, holds <nothing>."
    dist = planner.distribution(text)
    entry = planner.recorded[text]
    assert entry["invalid"] == 0 and len(entry["replies"]) == 3
    assert {p for p, _ in dist} <= set(entry["candidates"])


def test_eval_teacher_live_then_replay_makes_zero_calls(server: str, tmp_path: Path, capsys):
    common = ["eval", "--task", "SimpleDoorKey", "--loaddir", "teach", "--logdir", str(tmp_path),
              "--eval_teacher", "--num_eval", "2", "--num_videos", "0", "--num_envs", "2"]
    assert main([*common, "--savedir", "live", "--llm_url", server, "--n_ask", "2",
                 "--llm_constrain"]) == 0
    out = capsys.readouterr().out
    assert f"live LLM 'meta_controller' at {server}" in out
    live = tmp_path / "ppo" / "simpledoorkey" / "teach" / "live"
    results = json.loads((live / "results.json").read_text())
    assert results["planner"]["llm_calls"] > 0
    recorded = live / "llm_answers.json"
    assert recorded.exists()
    assert main([*common, "--savedir", "replay", "--answers_file", str(recorded),
                 "--offline_planner"]) == 0
    replay = json.loads((tmp_path / "ppo" / "simpledoorkey" / "teach" / "replay" /
                         "results.json").read_text())
    assert replay["planner"]["llm_calls"] == 0 and replay["planner"]["texts_asked"] == 0


def test_answers_command_records_every_text(server: str, tmp_path: Path, capsys):
    out = tmp_path / "answers.json"
    assert main(["answers", "--task", "TwoDoor", "--llm_url", server, "--n_ask", "2",
                 "--llm_constrain", "--out", str(out)]) == 0
    from planners.mediator import enumerate_texts

    entries = json.loads(out.read_text())["entries"]
    assert set(entries) == set(enumerate_texts("TwoDoor"))
    assert "covers 9 of the 9 texts" in capsys.readouterr().out


def test_server_down_is_one_clear_line(capsys):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    client = LLMClient(LLMConfig(url=url, retries=2, backoff=0.05, timeout=2))
    t0 = time.time()
    with pytest.raises(LLMUnavailable) as err:
        client.ask("system", "user", ["explore"])
    assert url in str(err.value) and "3 tries" in str(err.value) and "\n" not in str(err.value)
    assert time.time() - t0 < 10
    code = main(["eval", "--task", "SimpleDoorKey", "--loaddir", "x", "--savedir", "y",
                 "--eval_teacher", "--llm_url", url, "--llm_retries", "0", "--num_eval", "1",
                 "--logdir", "/tmp/ihac-test-llm-down"])
    err_text = capsys.readouterr().err.strip()
    assert code == 2 and url in err_text and err_text.count("\n") == 0
