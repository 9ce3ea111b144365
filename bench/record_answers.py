"""Record one LLM's answers for every text of every task: ``main.py serve`` + ``main.py answers``.

    python bench/record_answers.py --model smollm2 --out bench/results/teacher/answers/smollm2-135m
    python bench/record_answers.py --model gemma-3-270m --free_text --out DIR -- --n_ask 5

Starts the model with ``python main.py serve --port 0`` (as a user would), runs
``python main.py answers --task T --llm_url URL --llm_constrain --n_ask 10 --out OUT/<task>.json``
for each task (``--free_text``: without --llm_constrain; flags after ``--`` are added), stops
the server, and writes OUT/command.txt. The files replay with ``--answers_file`` or as a
column of bench/teacher.py.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from envs import TASK_NAMES
from serving.process import ROOT, ServeProcess


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--out", required=True)
    parser.add_argument("--tasks", nargs="+", default=list(TASK_NAMES))
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--free_text", action="store_true",
                        help="free-text replies mapped onto the candidates (no JSON schema)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    server = ServeProcess(["--model", args.model, "--port", "0", "--threads", str(args.threads)],
                          out / "server.log")
    print(server.printed[0].strip(), flush=True)
    try:
        for task in args.tasks:
            t0 = time.perf_counter()
            cmd = [sys.executable, str(ROOT / "main.py"), "answers", "--task", task, "--llm_url",
                   server.url, *([] if args.free_text else ["--llm_constrain"]), "--n_ask", "10",
                   "--out", str(out / f"{task.lower()}.json"), *extra]
            subprocess.run(cmd, check=True)
            print(f"{task}: {time.perf_counter() - t0:.0f} s", flush=True)
    finally:
        server.stop()
    (out / "server.log").unlink(missing_ok=True)
    (out / "command.txt").write_text("python bench/record_answers.py " + shlex.join(sys.argv[1:])
                                     + "\n")


if __name__ == "__main__":
    main()
