"""The planner against a REAL local LLM server, through the openai client.

The server is ``python main.py serve`` (llama.cpp via xllamacpp, SmolLM2-135M-Instruct), started
as a user starts it and stopped with SIGTERM; a server that cannot start fails these tests.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from main import main
from planners.answers import AnswerBook, write_answer_file
from planners.llm import LLMClient, LLMConfig, LLMUnavailable
from planners.planner import Planner
from serving.process import serving
from serving.server import free_port
from tests.conftest import ROOT

TEXTS = ["Agent sees <key>, <door>, holds <nothing>.", "Agent sees <door>, holds <key>.",
         "Agent sees <key>, holds <nothing>."]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> str:
    # one thread: llama.cpp's threads wait for each other by spinning, so two of them on a
    # busy 2-core machine (the test run itself, a sweep) can take minutes per reply
    with serving(["--port", "0", "--threads", "1"],
                 tmp_path_factory.mktemp("llama") / "server.log") as url:
        yield url


def shipped_choices(task: str) -> dict[str, list[str]]:
    book = AnswerBook.load(task)
    return {t: e["candidates"] for t, e in book.entries.items() if e.get("candidates")}


@pytest.mark.slow
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
            for plan, _ in dist:  # only candidates: nothing of the planner's own making
                assert plan in entry["candidates"]
    s = planner.stats
    assert s.llm_calls == sum(len(planner.recorded[t]["replies"]) for t in TEXTS)
    assert s.invalid_replies == sum(planner.recorded[t]["invalid"] for t in TEXTS)
    assert planner.distribution(TEXTS[0]) and s.cache_hits == 1  # cached: no new call
    assert s.llm_calls == sum(len(planner.recorded[t]["replies"]) for t in TEXTS)
    saved = json.loads(record.read_text())["entries"]
    assert set(saved) == set(TEXTS)
    assert all(e["system"] and e["user"] and e["model"] for e in saved.values())


@pytest.mark.slow
def test_constrained_replies_are_always_candidates(server: str):
    planner = Planner("KeyInBox", llm=LLMClient(LLMConfig(url=server, constrain=True)), n_ask=3,
                      choices=shipped_choices("KeyInBox"))
    text = "Agent sees <box>, <door>, holds <nothing>."
    dist = planner.distribution(text)
    entry = planner.recorded[text]
    assert entry["invalid"] == 0 and len(entry["replies"]) == 3
    assert {p for p, _ in dist} <= set(entry["candidates"])


@pytest.mark.slow
def test_eval_teacher_live_then_replay_makes_zero_calls(server: str, tmp_path: Path, capsys):
    common = ["eval", "--task", "SimpleDoorKey", "--loaddir", "teach", "--logdir", str(tmp_path),
              "--eval_teacher", "--num_eval", "2", "--num_videos", "0", "--num_envs", "2"]
    assert main([*common, "--savedir", "live", "--llm_url", server, "--n_ask", "2",
                 "--llm_constrain"]) == 0
    out = capsys.readouterr().out
    assert f"live LLM 'meta_controller' at {server}" in out
    # progress while the LLM is asked: one line per text, with the running counts
    assert "LLM: 'Agent sees" in out and "usable of" in out and "calls" in out
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


@pytest.mark.slow
def test_run_from_an_answer_file_records_a_complete_file(server: str, tmp_path: Path,
                                                          capsys):
    """--answers_file F --llm_url URL: the recorded file holds F's answers and the new ones, so
    replaying it alone (offline) covers the whole run."""
    shipped = AnswerBook.load("SimpleDoorKey").entries
    # seen in every solved episode (a text with one candidate would need no LLM)
    missing = "Agent sees <door>, holds <key>."
    partial = tmp_path / "partial.json"
    write_answer_file(partial, "SimpleDoorKey",
                      {t: e for t, e in shipped.items() if t != missing}, "all but one text")
    common = ["eval", "--task", "SimpleDoorKey", "--loaddir", "teach", "--logdir", str(tmp_path),
              "--eval_teacher", "--num_eval", "2", "--num_videos", "0", "--num_envs", "2"]
    assert main([*common, "--savedir", "partial", "--answers_file", str(partial),
                 "--offline_planner"]) == 2
    assert repr(missing) in capsys.readouterr().err
    assert main([*common, "--savedir", "live", "--answers_file", str(partial), "--llm_url",
                 server, "--n_ask", "2", "--llm_constrain"]) == 0
    recorded = tmp_path / "ppo" / "simpledoorkey" / "teach" / "live" / "llm_answers.json"
    entries = json.loads(recorded.read_text())["entries"]
    assert set(entries) == set(shipped)
    assert entries[missing]["replies"] and len(entries[missing]["replies"]) >= 2
    assert main([*common, "--savedir", "replay", "--answers_file", str(recorded),
                 "--offline_planner"]) == 0


@pytest.mark.slow
def test_cut_off_json_is_asked_again_with_a_larger_limit(server: str):
    text = "Agent sees <box>, <door>, holds <nothing>."
    cands = shipped_choices("KeyInBox")[text]
    # 2 tokens cannot hold {"plan": ...}; 4 x 2 cannot either: counted as truncated
    tight = Planner("KeyInBox", llm=LLMClient(LLMConfig(url=server, constrain=True,
                                                        max_tokens=2)), n_ask=2, max_reasks=0,
                    choices={text: cands}, progress=False)
    tight.distribution(text)
    assert tight.llm.truncation_retries == 2
    assert tight.stats.truncated_replies == 2 and tight.stats.invalid_replies == 2
    assert tight.recorded[text]["truncated"] == 2 and tight.recorded[text]["uniform_fallback"]
    # 2 tokens, asked again with 64 x 2: the retry completes the JSON
    roomy = LLMClient(LLMConfig(url=server, constrain=True, max_tokens=2,
                                truncated_retry_factor=64))
    reply = roomy.ask("system", "Pick a plan.", cands)
    assert roomy.truncation_retries == 1 and not reply.truncated
    assert json.loads(reply.text)["plan"] in cands


@pytest.mark.slow
def test_answers_command_records_every_text(server: str, tmp_path: Path, capsys):
    out = tmp_path / "answers.json"
    assert main(["answers", "--task", "TwoDoor", "--llm_url", server, "--n_ask", "2",
                 "--llm_constrain", "--out", str(out)]) == 0
    from planners.mediator import enumerate_texts

    entries = json.loads(out.read_text())["entries"]
    assert set(entries) == set(enumerate_texts("TwoDoor"))
    assert "covers 9 of the 9 texts" in capsys.readouterr().out


def test_server_down_is_one_clear_line(capsys, tmp_path: Path):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    client = LLMClient(LLMConfig(url=url, retry_seconds=30, timeout=2))
    waits = []
    client.sleep = waits.append  # the backoff, without the wait
    with pytest.raises(LLMUnavailable) as err:
        client.ask("system", "user", ["explore", "go to <key>"])
    assert waits == [1, 2, 4, 8, 10]  # doubling up to 10 s, 25 s in all: within 30 s
    message = str(err.value)
    assert message.startswith(f"no LLM server answers at {url} (APIConnectionError")
    assert "6 tries over 25 s" in message and "\n" not in message
    assert "docs/fastchat.md" in message and "python main.py serve" in message
    code = main(["eval", "--task", "SimpleDoorKey", "--loaddir", "x", "--savedir", "y",
                 "--eval_teacher", "--llm_url", url, "--llm_retry_seconds", "0", "--num_eval", "1",
                 "--logdir", str(tmp_path)])
    err_text = capsys.readouterr().err.strip()
    assert code == 2 and url in err_text and err_text.count("\n") == 0


@pytest.mark.slow
def test_sigterm_during_a_live_eval_says_what_it_kept(server: str, tmp_path: Path):
    run = tmp_path / "ppo" / "simpledoorkey" / "teach" / "live"
    proc = subprocess.Popen(
        [sys.executable, "main.py", "eval", "--task", "SimpleDoorKey", "--loaddir", "teach",
         "--savedir", "live", "--logdir", str(tmp_path), "--eval_teacher", "--num_eval", "200",
         "--num_videos", "0", "--llm_url", server, "--n_ask", "4"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:  # the first text asked of the LLM, recorded
            if line.startswith("LLM: "):
                break
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=60)[1].strip()
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    last = err.splitlines()[-1]
    assert last.startswith("eval interrupted (SIGTERM): the LLM's answers to ") and \
        f"texts, each complete, are in {run / 'llm_answers.json'}" in last
    kept = AnswerBook.load("SimpleDoorKey", run / "llm_answers.json").entries
    assert int(last.split("answers to ")[1].split()[0]) == len(kept) >= 1
    assert not (run / "results.json").exists()
