"""llama.cpp's HTTP server (OpenAI-compatible /v1/chat/completions, JSON-schema replies) run inside
this process through the xllamacpp CPU wheel, which picks its kernels for the CPU it runs on.

    with LocalServer(ServerOptions(model="smollm2", port=0)) as server:
        print(server.url)   # http://127.0.0.1:<port>/v1: pass it as --llm_url
"""

from __future__ import annotations

import errno
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from serving.models import resolve_model
from utils.errors import UserError


@dataclass
class ServerOptions:
    model: str | None = None          # a packaged model's name or a GGUF path (default: SmolLM2)
    host: str = "127.0.0.1"
    port: int = 8080                  # 0: any free port
    threads: int = 0                  # 0: every core
    ctx_size: int = 2048              # context length of the one slot
    chat_template: str | None = None  # a Jinja file, or a template name llama.cpp knows (chatml)
    verbose: bool = False             # llama.cpp's own log on stderr


def _check_port_free(host: str, port: int) -> None:
    """llama.cpp only says "failed to init" when the port is taken: find out first."""
    if port == 0:
        return
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc})"
            raise UserError(f"--port {port} on {host} {why}: choose another, or --port 0 for "
                            "any free port") from None


class LocalServer:
    def __init__(self, opts: ServerOptions) -> None:
        self.opts = opts
        self.model_path, packaged_template = resolve_model(opts.model)
        self.chat_template = opts.chat_template or packaged_template
        self.threads = opts.threads or os.cpu_count() or 1
        self.url: str | None = None
        self.start_seconds: float | None = None
        self._server = None

    def _params(self):
        import xllamacpp

        p = xllamacpp.CommonParams()
        p.model.path = str(self.model_path)
        p.model_alias = {self.model_path.name}  # what replies report as their model
        p.hostnames = [self.opts.host]
        p.port = self.opts.port
        p.n_ctx = self.opts.ctx_size
        p.n_parallel = 1
        p.cpuparams.n_threads = self.threads
        p.cpuparams_batch.n_threads = self.threads
        p.verbosity = 3 if self.opts.verbose else -1
        if self.chat_template:
            template = Path(self.chat_template)
            if template.suffix == ".jinja" or template.is_file():
                if not template.is_file():
                    raise UserError(f"--chat_template {self.chat_template}: no such file")
                p.chat_template = template.read_text()
            else:  # a name llama.cpp knows, e.g. chatml, gemma, llama3
                p.chat_template = self.chat_template
            p.use_jinja = True
        return p

    def start(self) -> str:
        """Load the model, listen, and return the base URL to pass as --llm_url."""
        if self.opts.threads < 0 or self.opts.ctx_size <= 0 or not 0 <= self.opts.port < 65536:
            raise UserError("--threads must be >= 0, --ctx_size > 0 and --port in 0..65535")
        _check_port_free(self.opts.host, self.opts.port)
        params = self._params()
        import xllamacpp

        t0 = time.perf_counter()
        try:
            self._server = xllamacpp.Server(params)
        except RuntimeError as exc:
            raise UserError(f"llama.cpp could not serve {self.model_path} on "
                            f"{self.opts.host}:{self.opts.port} ({exc}); rerun with --verbose "
                            "to see its log") from None
        self.start_seconds = time.perf_counter() - t0
        self.url = self._server.listening_address.rstrip("/") + "/v1"
        return self.url

    def stop(self) -> None:
        """Stop listening and free the model (the server's destructor joins its threads)."""
        server, self._server = self._server, None
        del server

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
