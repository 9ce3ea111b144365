"""Every bad input and fault the suite tries, with what the one line it gets says: the data of
the tests and of docs/bad-inputs.md, which this module writes (`python -m tests.bad_inputs`), so
that the page cannot say what the tests do not check.

FLAGS and ANSWERS drive tests/test_bad_numbers_and_answers.py directly; FAULTS name the test
that provokes each fault and the words it asserts (test_bad_inputs_page.py checks that the test
file holds them).
"""

from __future__ import annotations

import sys
from pathlib import Path

TEXT = "Agent sees <key>, <door>, holds <nothing>."
PAGE = Path(__file__).resolve().parents[1] / "docs" / "bad-inputs.md"

# train flags: (flags, what the line says)
FLAGS = [
    (["--lr", "inf"], "--lr inf is invalid: it must be a finite number"),
    (["--guide_coef", "nan"], "--guide_coef nan is invalid: it must be a finite number"),
    (["--entropy_coef=-inf"], "--entropy_coef -inf is invalid: it must be a finite number"),
    (["--tc_vmax", "inf"], "--tc_vmax inf is invalid"),
    (["--seed_list", "99999999999999999999"], "seeds go from 0 to 2,147,483,647"),
    (["--env_seed_list", "3", "4294967296"], "--env_seed_list 4294967296 is invalid"),
    (["--num_envs", "100000"], "--num_envs 100,000 is invalid: at most 4,096"),
    (["--batch_size", "1000000000"], "GB of rollout storage; this machine has"),
    (["--llm_url", "notaurl"], "--llm_url 'notaurl' is not an http(s) URL"),
    (["--logdir", ""], "--logdir '' is invalid"),
    (["--seed_list", "1000000"], "would train on held-out evaluation rooms"),
    (["--target_success", "1.5"], "--target_success 1.5 is invalid"),
    (["--conditioning", "attention", "--obs_encoding", "raw"],
     "--conditioning attention needs one-hot cells"),
    (["--twins", "swap", "--algo", "ppo"], "--twins swap is labelled by the teacher"),
    (["--twins", "paint", "--recurrent"], "--twins paint needs a student without --recurrent"),
    (["--twins", "mirror"], "--twins: invalid choice: 'mirror'"),
    (["--twin_keep", "relabelled"], "--twin_keep relabelled is about colour twins"),
    (["--twin_span", "run"], "--twin_span run is about colour twins"),
]

# answer files (--answers_file): (entries, what the line says after the file and the entry)
ANSWERS = [
    ({TEXT: {"plans": "go to <key>"}}, "'plans' must be a list"),
    ({TEXT: {"plans": ["go to <key>", "explore"]}}, "is not a [plan text, probability] pair"),
    ({TEXT: {"plans": [["explore", float("nan")]]}}, "has probability nan"),
    ({TEXT: {"plans": [["explore", -0.5], ["go to <key>", 1.5]]}}, "has probability -0.5"),
    ({TEXT: {"plans": [["explore", 0], ["go to <key>", 0]]}}, "probabilities are all 0"),
    ({TEXT: {"plans": [["fly to the moon", 1.0]]}}, "no plan holds an item a skill understands"),
    ({TEXT: "explore"}, "an entry must be an object"),
]

# (the input or fault, the test that makes it, words its line holds)
FAULTS = [
    ("--answers_file naming a directory", "test_bad_numbers_and_answers.py",
     "is a directory"),
    ("sweep --variant with an unclosed quote", "test_bad_numbers_and_answers.py",
     "No closing quotation"),
    ("plot --out naming a file", "test_bad_numbers_and_answers.py", "is a file"),
    ("training that turns non-finite (--lr 1e30)", "test_bad_numbers_and_answers.py",
     "training turned non-finite at iteration"),
    ("a dead --llm_url at start (nothing written)", "test_bad_numbers_and_answers.py",
     "no LLM server answers"),
    ("a corrupt acmodel.pt, the one before intact (a note, then training)",
     "test_checkpoint_faults.py", "using the checkpoint before it"),
    ("both checkpoints unreadable", "test_checkpoint_faults.py", "nothing here can be resumed"),
    ("a checkpoint that cannot be written (file size limit)", "test_checkpoint_faults.py",
     "cannot write checkpoint"),
    ("one run's broken checkpoint in a sweep (the others run)", "test_checkpoint_faults.py",
     "1 runs failed"),
    ("sweep --address with nothing there", "test_ray_cluster.py",
     "no Ray cluster answers there"),
    ("sweep --address: a cluster that refuses our token", "test_ray_cluster.py",
     "refused our authentication"),
    ("sweep --address: something listens, no Ray there", "test_ray_cluster.py",
     "listens there but no Ray cluster answered"),
    ("Ctrl-C while a sweep joins a cluster (exit 130)", "test_ray_cluster.py",
     "nothing was started"),
    ("TensorBoard events or progress.csv that cannot be written (file size limit)",
     "test_checkpoint_faults.py", "(EFBIG: File too large)"),
    ("sweep --gpus_per_run -1, 1.5, nan, inf", "test_device.py", "--gpus_per_run"),
    ("--device cuda without a GPU", "test_device.py", "no CUDA device is available"),
    ("a solved run trained again", "test_target_success.py",
     "--target_success 0 (or a higher one) to train on"),
    ("an empty, corrupt or truncated checkpoint at eval", "test_cli_errors.py", "corrupt"),
]


def page() -> str:
    """docs/bad-inputs.md."""
    def row(*cells: str) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = ["# Bad inputs and faults, and the line each gets", "",
             "Written by `python -m tests.bad_inputs` from the data of the tests that check "
             "them (`tests/bad_inputs.py`); a test fails when this page is stale. Each gets "
             "one line on stderr (`error: ...`) and exit code 2, never a traceback; the last "
             "column is what the tests assert the line says.", "",
             "## Flags of `main.py train`", "", row("flags", "the line says"), row("---", "---")]
    lines += [row("`" + " ".join(f or "''" for f in flags) + "`", says) for flags, says in FLAGS]
    lines += ["", "## Answer files (`--answers_file`)", "",
              "The line names the file and the entry, then:", "",
              row("entry", "the line says"), row("---", "---")]
    lines += [row("`" + repr(entries[TEXT]).replace("`", "'") + "`", says)
              for entries, says in ANSWERS]
    lines += ["", "## Other inputs and faults", "", row("input or fault", "test", "the line says"),
              row("---", "---", "---")]
    lines += [row(what, f"`tests/{test}`", says) for what, test, says in FAULTS]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    PAGE.write_text(page())
    sys.stdout.write(f"wrote {PAGE}\n")
