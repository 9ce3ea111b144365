"""python main.py serve: a real llama.cpp server that starts, answers, and stops on a signal."""

from __future__ import annotations

import json
import signal
import socket
import urllib.request
from pathlib import Path

import pytest

from main import main
from serving.models import TEMPLATES, resolve_model
from serving.process import ServeFailed, ServeProcess


def _post(url: str, path: str, body: dict) -> dict:
    req = urllib.request.Request(f"{url.removesuffix('/v1')}{path}",
                                 data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


@pytest.mark.slow
def test_serve_prints_its_url_answers_and_stops_on_ctrl_c(tmp_path: Path):
    server = ServeProcess(["--port", "0", "--threads", "1"], tmp_path / "serve.log")
    assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/v1")
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in server.printed[0]
    with urllib.request.urlopen(f"{server.url}/models", timeout=10) as r:
        models = json.loads(r.read())
    assert [m["id"] for m in models["data"]] == ["SmolLM2-135M-Instruct.Q4_1.gguf"]
    reply = _post(server.url, "/v1/chat/completions",
                  {"messages": [{"role": "user", "content": "Say yes."}], "max_tokens": 4})
    assert reply["choices"][0]["message"]["content"]
    assert server.stop(signal.SIGINT) == "Ctrl-C or SIGTERM stops it\nserver stopped\n"


@pytest.mark.slow
def test_completion_template_for_base_models(tmp_path: Path):
    """The template given to gemma-3-270m (a base model) turns the chat into plain text that
    ends in "Answer:"; any GGUF can be served with it."""
    template = TEMPLATES / "completion.jinja"
    server = ServeProcess(["--port", "0", "--threads", "1", "--chat_template", str(template)],
                          tmp_path / "serve.log")
    try:
        prompt = _post(server.url, "/apply-template", {"messages": [
            {"role": "system", "content": "Task."}, {"role": "user", "content": "Observation."}]})
        assert prompt["prompt"] == "Task.\nObservation.\nAnswer:"
        assert "chat template" in server.printed[0]
    finally:
        server.stop()


def test_serve_bad_input_is_one_line(capsys, tmp_path: Path):
    assert main(["serve", "--model", str(tmp_path / "missing.gguf")]) == 2
    err = capsys.readouterr().err
    assert "missing.gguf" in err and "smollm2" in err and err.count("\n") == 1
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"--port {port}" in err and "in use" in err and err.count("\n") == 1
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err
    assert main(["serve", "--chat_template", str(tmp_path / "none.jinja"), "--port", "0"]) == 2
    assert "none.jinja" in capsys.readouterr().err


def test_default_model_is_the_installed_smollm2():
    path, template = resolve_model(None)
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()
    assert template is None


def test_a_server_that_cannot_start_is_serve_failed_with_its_error(tmp_path: Path):
    """ServeProcess (how the slow tier starts `main.py serve`): a server that exits at once is
    ServeFailed carrying its one line, not a wait for a URL."""
    with pytest.raises(ServeFailed) as failed:
        ServeProcess(["--model", str(tmp_path / "missing.gguf")], tmp_path / "serve.log",
                     timeout=60)
    message = str(failed.value)
    assert "did not start (exit 2)" in message and "missing.gguf" in message


def test_gguf_to_hf_checks_its_input_before_converting(capsys, tmp_path: Path):
    """python -m serving.gguf_to_hf (its conversion runs in the slow tier, test_fastchat.py): a
    bad --model, --gguf or --out is one line and exit 2, nothing written."""
    from serving.gguf_to_hf import conv_template_for, fastchat_commands
    from serving.gguf_to_hf import main as gguf_to_hf

    for args, says in ((["--model", "nope"], "--model 'nope' is not a shipped model"),
                       (["--gguf", str(tmp_path / "none.gguf")], "none.gguf: no such file")):
        assert gguf_to_hf([*args, "--out", str(tmp_path / "hf")]) == 2
        err = capsys.readouterr().err
        assert says in err and err.count("\n") == 1
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine").write_text("mine")
    assert gguf_to_hf(["--model", "smollm2", "--out", str(taken)]) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err
    assert not (tmp_path / "hf").exists() and [p.name for p in taken.iterdir()] == ["mine"]
    assert conv_template_for("<|im_start|>user") == "qwen-7b-chat"
    assert conv_template_for(None) == "zero_shot"  # a base model: plain text
    assert "--model-name 'meta_controller'" in fastchat_commands(tmp_path, "qwen-7b-chat")
