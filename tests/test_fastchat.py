"""The teacher through the REAL FastChat stack, the LLM server of the original IHAC README.

SmolLM2-135M-Instruct (the GGUF of requirements-llm.txt) is converted with
``python -m serving.gguf_to_hf`` and served as a user does (docs/fastchat.md): controller,
model_worker (``--conv-template qwen-7b-chat --device cpu --model-name meta_controller``) and
openai_api_server, on free ports of 127.0.0.1; ``main.py eval`` and ``train`` then use it with
``--llm_url``. Needs requirements-fastchat.txt; a stack that cannot start fails these tests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from main import main
from planners.llm import LLMClient, LLMConfig, LLMUnavailable
from serving.server import free_port
from tests.conftest import ROOT, TINY

pytestmark = pytest.mark.slow

MODEL = "meta_controller"
START_TIMEOUT = 300  # seconds for the three servers to list the model (8-10 s here)
# short replies, one usable reply per text: every text costs at most 1 + 20 re-asks
LIVE = ["--llm_model", MODEL, "--n_ask", "1", "--llm_max_tokens", "16"]
EVAL = ["eval", "--task", "SimpleDoorKey", "--loaddir", "teach", "--eval_teacher",
        "--num_eval", "1", "--num_envs", "1", "--num_videos", "0"]


def _start(cmd: list[str], log: Path, **env: str) -> subprocess.Popen:
    with open(log, "w") as out:  # its own process group: stopped with every child it started
        # LOGDIR: where FastChat writes its own log files (else the current directory)
        return subprocess.Popen([sys.executable, "-m", *cmd], stdout=out, stderr=subprocess.STDOUT,
                                cwd=ROOT, start_new_session=True,
                                env={**os.environ, "LOGDIR": str(log.parent), **env})


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _models(url: str) -> list[str]:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=5) as r:
            return [m["id"] for m in json.loads(r.read())["data"]]
    except (OSError, ValueError, KeyError):  # not up yet, or not answering JSON yet
        return []


@pytest.fixture(scope="module")
def fastchat_workers() -> list:
    """The model worker the stack starts (a test stops it to see what the client says)."""
    return []


@pytest.fixture(scope="module")
def fastchat(tmp_path_factory, fastchat_workers: list) -> str:
    """The base URL of a running FastChat stack serving the converted SmolLM2."""
    root = tmp_path_factory.mktemp("fastchat")
    folder = root / "smollm2-hf"  # FastChat picks an adapter by name: this one matches none
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "serving.gguf_to_hf", "--model", "smollm2",
                           "--out", str(folder)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--conv-template qwen-7b-chat" in done.stdout
    print(f"\nconverted in {time.perf_counter() - t0:.0f} s")
    ports: set[int] = set()
    while len(ports) < 3:
        ports.add(free_port())
    controller, worker, api = sorted(ports)
    ctl = f"http://127.0.0.1:{controller}"
    url = f"http://127.0.0.1:{api}/v1"
    t0 = time.perf_counter()
    procs: list[subprocess.Popen] = []
    try:
        procs.append(_start(["fastchat.serve.controller", "--host", "127.0.0.1", "--port",
                             str(controller)], root / "controller.log"))
        procs.append(_start(["fastchat.serve.model_worker", "--model-path", str(folder),
                             "--model-name", MODEL, "--conv-template", "qwen-7b-chat",
                             "--device", "cpu", "--host", "127.0.0.1", "--port", str(worker),
                             "--worker-address", f"http://127.0.0.1:{worker}",
                             "--controller-address", ctl], root / "worker.log",
                            # one torch thread: threads that wait for each other by spinning
                            # make each reply several times slower on a busy 2-core machine
                            OMP_NUM_THREADS="1"))
        fastchat_workers.append(procs[-1])
        procs.append(_start(["fastchat.serve.openai_api_server", "--host", "127.0.0.1",
                             "--port", str(api), "--controller-address", ctl],
                            root / "api.log"))
        while MODEL not in _models(url):
            dead = [p.args[2] for p in procs if p.poll() is not None]
            waited = time.perf_counter() - t0
            if dead or waited > START_TIMEOUT:
                logs = "".join(f"\n--- {log.name}\n{log.read_text()[-1500:]}"
                               for log in sorted(root.glob("*.log")))
                pytest.fail(f"FastChat did not start ({dead or f'{waited:.0f} s'}):{logs}")
            time.sleep(0.5)
        print(f"FastChat serves {MODEL} at {url} after {time.perf_counter() - t0:.0f} s")
        yield url
    finally:
        _stop(procs)


@pytest.fixture(scope="module")
def live_eval(fastchat: str, tmp_path_factory) -> Path:
    """`main.py eval --eval_teacher --llm_url` through FastChat: its run directory."""
    logdir = tmp_path_factory.mktemp("eval")
    t0 = time.perf_counter()
    code = main([*EVAL, "--logdir", str(logdir), "--savedir", "live", "--llm_url", fastchat,
                 *LIVE])
    print(f"live eval: exit {code} in {time.perf_counter() - t0:.0f} s")
    assert code == 0
    return logdir / "ppo" / "simpledoorkey" / "teach" / "live"


def _asked(entries: dict) -> dict:
    """The entries the LLM was asked about (a text with one candidate plan is not asked)."""
    return {t: e for t, e in entries.items() if e["n_ask"]}


def test_eval_teacher_through_fastchat_records_its_replies(live_eval: Path):
    entries = json.loads((live_eval / "llm_answers.json").read_text())["entries"]
    asked = _asked(entries)
    assert asked, f"no text was asked: {list(entries)}"
    replies = sum(len(e["replies"]) for e in asked.values())
    usable = sum(len(e["replies"]) - e["invalid"] for e in asked.values())
    print(f"{usable} usable of {replies} replies over {len(asked)} texts asked; "
          f"{sum(e['uniform_fallback'] for e in asked.values())} uniform fallbacks")
    for text, e in asked.items():
        assert e["model"] == MODEL and e["user"].startswith(f"Observation: {text}"), text
        assert 1 <= len(e["replies"]) <= 21 and 0 <= e["invalid"] <= len(e["replies"]), text
        assert e["uniform_fallback"] == (e["invalid"] == len(e["replies"])), text
        for reply in e["replies"]:  # the model's own words: no server error, no echoed prompt
            assert isinstance(reply, str) and reply.strip(), text
            assert e["system"][:80] not in reply, reply
        if not e["uniform_fallback"]:
            assert {p for p, _ in e["plans"]} <= set(e["candidates"]), text
    results = json.loads((live_eval / "results.json").read_text())
    assert results["planner"]["llm_calls"] == replies
    assert results["planner"]["invalid_replies"] == replies - usable


def test_recorded_answers_replay_offline(live_eval: Path, tmp_path: Path):
    """The answer file recorded through FastChat replays the same teacher with no server."""
    assert main([*EVAL, "--logdir", str(tmp_path), "--savedir", "replay", "--answers_file",
                 str(live_eval / "llm_answers.json"), "--offline_planner"]) == 0
    live = json.loads((live_eval / "results.json").read_text())
    replay = json.loads((tmp_path / "ppo" / "simpledoorkey" / "teach" / "replay" /
                         "results.json").read_text())
    assert replay["planner"]["llm_calls"] == 0 and replay["planner"]["texts_asked"] == 0
    for key in ("episodes", "Success Rate", "Return Mean", "Eplen"):
        assert replay[key] == live[key], key


def test_training_through_fastchat(fastchat: str, live_eval: Path, tmp_path: Path):
    """A few tiny iterations; the texts the eval asked come from its record, so each text is
    asked of the (slow) model once in this module; the run's record holds both."""
    record = live_eval / "llm_answers.json"
    t0 = time.perf_counter()
    assert main(["train", "--task", "SimpleDoorKey", "--savedir", "t", "--logdir",
                 str(tmp_path), "--llm_url", fastchat, "--answers_file", str(record), *LIVE,
                 *TINY]) == 0
    entries = json.loads((tmp_path / "ppo" / "simpledoorkey" / "t" / "llm_answers.json")
                         .read_text())["entries"]
    before = json.loads(record.read_text())["entries"]
    new = _asked({t: e for t, e in entries.items() if t not in before})
    print(f"training: {time.perf_counter() - t0:.0f} s, {len(new)} more texts asked")
    assert set(before) <= set(entries)
    assert all(e["model"] == MODEL and e["replies"] for e in new.values())


def test_usable_free_text_replies_come_through(fastchat: str, tmp_path: Path):
    """A text where SmolLM2's free text often names a candidate (about 30% of replies at 48
    tokens, through llama.cpp and FastChat alike: docs/fastchat.md): asked until one reply is
    usable (at most 21 replies), it is recorded as a plan of the candidates, no fallback."""
    from planners.answers import AnswerBook, candidates_for
    from planners.planner import Planner

    text = "Agent sees <box>, <door>, holds <nothing>."
    book = AnswerBook.load("KeyInBox")
    choices = {t: e["candidates"] for t, e in book.entries.items() if e.get("candidates")}
    planner = Planner("KeyInBox", llm=LLMClient(LLMConfig(url=fastchat, model=MODEL,
                                                          max_tokens=48)),
                      n_ask=1, choices=choices, record_path=tmp_path / "llm_answers.json")
    dist = planner.distribution(text)
    entry = json.loads((tmp_path / "llm_answers.json").read_text())["entries"][text]
    print(f"usable after {len(entry['replies'])} replies: {entry['replies'][-1]!r}")
    assert not entry["uniform_fallback"] and len(entry["replies"]) - entry["invalid"] == 1
    assert [p for p, _ in dist] == [p for p, _ in entry["plans"]]
    assert set(p for p, _ in dist) <= set(candidates_for(text, choices))


def _one_text_short(record: Path, out: Path) -> str:
    """``record`` without one text the LLM was asked (written to ``out``): that text's."""
    data = json.loads(record.read_text())
    text = next(iter(_asked(data["entries"])))
    del data["entries"][text]
    out.write_text(json.dumps(data))
    return text


def test_a_schema_fastchat_ignores_stops_the_run_with_one_line(fastchat: str, live_eval: Path,
                                                              tmp_path: Path, capsys):
    """FastChat accepts --llm_constrain's response_format and ignores it: said, not pretended."""
    partial = tmp_path / "partial.json"
    _one_text_short(live_eval / "llm_answers.json", partial)
    capsys.readouterr()
    assert main([*EVAL, "--logdir", str(tmp_path), "--savedir", "c", "--llm_url", fastchat,
                 "--answers_file", str(partial), "--llm_constrain", *LIVE[:2], "--n_ask", "1",
                 "--llm_max_tokens", "48"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"error: the LLM server at {fastchat} ignores --llm_constrain's JSON schema" in err
    assert "--llm_unconstrained free_text" in err


def test_free_text_parsing_when_the_schema_is_ignored(fastchat: str, capsys):
    client = LLMClient(LLMConfig(url=fastchat, model=MODEL, constrain=True,
                                 unconstrained="free_text", max_tokens=48))
    cands = ["explore", "go to <key>, pick up <key>"]
    for _ in range(5):  # a reply cut at the limit leaves it undecided
        client.ask("Answer with one of the plans.", f"Choose from {json.dumps(cands)}.", cands)
        if client.schema != "unchecked":
            break
    assert client.schema == "ignored" and not client.constrained
    assert client.describe_schema() == "asked, ignored by the server: free-text parsing"
    assert capsys.readouterr().err.count("going on with free-text parsing") == 1


def test_a_model_the_server_does_not_serve_is_one_line_listing_what_it_serves(fastchat: str):
    client = LLMClient(LLMConfig(url=fastchat, model="vicuna-7b-v1.5", retry_seconds=0))
    with pytest.raises(LLMUnavailable) as err:
        client.ask("system", "user", ["explore", "go to <key>"])
    assert str(err.value) == (f"the LLM server at {fastchat} serves ['{MODEL}'], not "
                              "'vicuna-7b-v1.5': pass one of them as --llm_model")


def test_a_dead_worker_is_named_after_the_retries(fastchat: str, fastchat_workers: list):
    """Last in the module: it kills the model worker."""
    worker = fastchat_workers[0]
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    client = LLMClient(LLMConfig(url=fastchat, model=MODEL, retry_seconds=6, timeout=10))
    t0 = time.perf_counter()
    with pytest.raises(LLMUnavailable) as err:
        client.ask("system", "user", ["explore", "go to <key>"])
    message = str(err.value)
    print(f"after {time.perf_counter() - t0:.0f} s: {message}")
    assert message.startswith(f"the LLM server at {fastchat} answers but cannot reply with "
                              f"model '{MODEL}'") and "worker may be gone" in message
    assert "\n" not in message
