"""python main.py serve: a real llama.cpp server that starts, answers, and stops on a signal."""

from __future__ import annotations

import json
import signal
import socket
import urllib.request
from pathlib import Path

from main import main
from serving.models import TEMPLATES, resolve_model
from serving.process import ServeProcess


def _post(url: str, path: str, body: dict) -> dict:
    req = urllib.request.Request(f"{url.removesuffix('/v1')}{path}",
                                 data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


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
