"""Local LLM servers side by side: start time, generation speed, one teacher query's latency.

    python bench/llm_server.py                                   # main.py serve (xllamacpp)
    python bench/llm_server.py --binary built=/path/to/llama-server --rounds 3

Each round starts every server in turn (interleaved, so machine load hits all alike) on
SmolLM2-135M-Instruct with --threads threads, and measures: start (launch until it answers),
generation tokens/s (128 tokens at temperature 0, the server's own timing), and the wall time of
one constrained teacher query (the SimpleDoorKey prompt, JSON-schema reply). --binary takes any
llama.cpp ``llama-server`` build (same flags as upstream); prints medians over the rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planners.prompts import system_message, user_message
from serving.models import default_model_path
from serving.process import ServeProcess
from serving.server import free_port


def _post(url: str, body: dict) -> tuple[dict, float]:
    req = urllib.request.Request(f"{url}/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read()), time.perf_counter() - t0


def measure(url: str) -> dict[str, float]:
    story = {"messages": [{"role": "user", "content": "Write a long story about a dog."}],
             "max_tokens": 128, "temperature": 0.0}
    reply, _ = _post(url, story)  # warm-up
    reply, _ = _post(url, story)
    t = reply.get("timings", {})
    cands = ["explore", "go to <key>, pick up <key>", "go to <door>, open <door>"]
    schema = {"type": "object", "required": ["plan"],
              "properties": {"plan": {"type": "string", "enum": cands}}}
    query = {"messages": [{"role": "system", "content": system_message("SimpleDoorKey")},
                          {"role": "user", "content": user_message(
                              "Agent sees <key>, <door>, holds <nothing>.", cands)}],
             "max_tokens": 64, "temperature": 0.7,
             "response_format": {"type": "json_schema",
                                 "json_schema": {"name": "plan", "schema": schema}}}
    latencies = [_post(url, query)[1] for _ in range(5)]
    return {"gen_tok_s": t.get("predicted_per_second", float("nan")),
            "prompt_tok_s": t.get("prompt_per_second", float("nan")),
            "query_s": statistics.median(latencies)}


def run_serve(threads: int, log: Path) -> dict[str, float]:
    server = ServeProcess(["--port", "0", "--threads", str(threads)], log)
    try:
        return {"start_s": server.start_seconds, **measure(server.url)}
    finally:
        server.stop()


def run_binary(binary: str, threads: int, log: Path) -> dict[str, float]:
    port = free_port()
    t0 = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.Popen([binary, "-m", str(default_model_path()), "--host", "127.0.0.1",
                                 "--port", str(port), "-c", "2048", "-t", str(threads)],
                                stdout=f, stderr=subprocess.STDOUT)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{binary} exited with {proc.returncode}: see {log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        start = time.perf_counter() - t0
        return {"start_s": start, **measure(f"http://127.0.0.1:{port}/v1")}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    servers = {"serve (xllamacpp)": None}
    for spec in args.binary:
        name, _, path = spec.partition("=")
        servers[name] = path
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name, binary in servers.items():
                log = Path(tmp) / f"{len(rows[name])}-{r}.log"
                try:
                    m = run_serve(args.threads, log) if binary is None else \
                        run_binary(binary, args.threads, log)
                except Exception as exc:  # a server that dies is a result too (e.g. SIGILL)
                    m = {"error": str(exc).splitlines()[0]}
                rows[name].append(m)
                print(f"round {r + 1} {name}: {m}", flush=True)
    print(f"\nSmolLM2-135M-Instruct Q4_1, {args.threads} threads, median of {args.rounds} rounds")
    print("| server | start (s) | generation (tokens/s) | prompt (tokens/s) | teacher query (s) |")
    print("|---|---|---|---|---|")
    for name, ms in rows.items():
        ok = [m for m in ms if "error" not in m]
        if not ok:
            print(f"| {name} | failed: {ms[0]['error'][:80]} | | | |")
            continue
        med = {k: statistics.median(m[k] for m in ok) for k in ok[0]}
        print(f"| {name} | {med['start_s']:.2f} | {med['gen_tok_s']:.0f} | "
              f"{med['prompt_tok_s']:.0f} | {med['query_s']:.2f} |")


if __name__ == "__main__":
    main()
