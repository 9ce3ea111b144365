"""python main.py serve: a local OpenAI-compatible LLM server for --llm_url, until Ctrl-C or SIGTERM.

    python main.py serve                          # SmolLM2-135M-Instruct on 127.0.0.1:8080
    python main.py serve --model gemma-3-270m --port 8081
    python main.py serve --model my.gguf --threads 4 --chat_template chatml
"""

from __future__ import annotations

import signal
import threading

from serving.server import LocalServer, ServerOptions
from utils.config import ServeConfig


def run(cfg: ServeConfig) -> None:
    server = LocalServer(ServerOptions(model=cfg.model, host=cfg.host, port=cfg.port,
                                       threads=cfg.threads, ctx_size=cfg.ctx_size,
                                       chat_template=cfg.chat_template, verbose=cfg.verbose))
    stop = threading.Event()
    url = server.start()
    # llama.cpp installs its own SIGINT/SIGTERM handlers when it starts (they stop only its loop,
    # a second signal exit(1)s): take both back so that either one stops this process cleanly
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.set())
    template = f", chat template {server.chat_template}" if server.chat_template else ""
    print(f"serving {server.model_path.name} at {url} ({server.threads} threads, context "
          f"{cfg.ctx_size}{template}; started in {server.start_seconds:.1f} s)", flush=True)
    print(f"use it with: --llm_url {url}", flush=True)
    print("Ctrl-C or SIGTERM stops it", flush=True)
    while not stop.wait(0.5):
        pass
    server.stop()
    print("server stopped", flush=True)
