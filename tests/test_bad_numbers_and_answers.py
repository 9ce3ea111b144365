"""Numbers that pass a type check but not sense, training that turns non-finite, and answer files
that are not answers: one line naming the value and what is accepted, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from main import main
from tests.bad_inputs import ANSWERS, FLAGS, TEXT
from tests.conftest import TINY


def fails(capsys, args: list[str]) -> str:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "\n" not in err and "Traceback" not in err and err.startswith("error:"), err
    return err


def train(logdir: Path, *flags: str) -> list[str]:
    return ["train", "--task", "SimpleDoorKey", "--savedir", "x", "--logdir", str(logdir), *flags]


@pytest.mark.parametrize(("flags", "says"), FLAGS)
def test_bad_numbers_and_urls(capsys, tmp_path: Path, flags: list[str], says: str) -> None:
    args = train(tmp_path / "log", *flags)
    if "--logdir" in flags:
        args = ["train", "--task", "SimpleDoorKey", "--savedir", "x", *flags]
    assert says in fails(capsys, args)
    assert not (tmp_path / "log").exists()


@pytest.mark.slow
def test_training_that_turns_non_finite_stops_and_keeps_the_last_checkpoint(capsys,
                                                                            tmp_path: Path):
    logdir = tmp_path / "log"
    assert main(train(logdir, "--algo", "ppo", *TINY)) == 0  # a good checkpoint at iteration 2
    run = logdir / "ppo" / "simpledoorkey" / "x"
    before = (run / "acmodel.pt").read_bytes()
    err = fails(capsys, train(logdir, "--algo", "ppo", *TINY[2:], "--n_itr", "6",
                              "--lr", "1e30"))
    assert "training turned non-finite at iteration 3" in err
    assert "the checkpoint of iteration 2 stands" in err and "lower --lr" in err
    assert (run / "acmodel.pt").read_bytes() == before


def answers(tmp_path: Path, entries: object, task: str = "SimpleDoorKey") -> Path:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"task": task, "entries": entries}))
    return path


@pytest.mark.parametrize(("entries", "says"), ANSWERS)
def test_answer_files_that_are_not_answers(capsys, tmp_path: Path, entries, says) -> None:
    path = answers(tmp_path, entries)
    err = fails(capsys, train(tmp_path / "log", "--answers_file", str(path), *TINY))
    assert str(path) in err and says in err
    assert TEXT in err or "entries" in err


def test_an_answer_file_that_is_a_directory(capsys, tmp_path: Path) -> None:
    err = fails(capsys, train(tmp_path / "log", "--answers_file", str(tmp_path), *TINY))
    assert f"answer file {tmp_path} is a directory" in err


def test_a_sweep_variant_with_an_unclosed_quote(capsys, tmp_path: Path) -> None:
    err = fails(capsys, ["sweep", "--task", "SimpleDoorKey", "--algos", "ppo", "--budget", "1000",
                         "--out", str(tmp_path / "s"), "--variant", 'a=--lr "1'])
    assert "--variant 'a=--lr \"1' is invalid" in err and "No closing quotation" in err
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_plot_out_naming_a_file(capsys, tmp_path: Path) -> None:
    logdir = tmp_path / "log"
    assert main(train(logdir, "--algo", "ppo", *TINY)) == 0
    target = tmp_path / "taken"
    target.write_text("mine")
    err = fails(capsys, ["plot", "--runs", str(logdir), "--out", str(target)])
    assert f"--out {target} is a file" in err and target.read_text() == "mine"


def test_a_start_that_fails_leaves_nothing(capsys, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    logdir = tmp_path / "log"
    logdir.mkdir()
    err = fails(capsys, train(logdir, "--llm_url", f"http://127.0.0.1:{port}/v1",
                              "--llm_retry_seconds", "0", "--llm_timeout", "2", *TINY))
    assert "no LLM server answers" in err
    assert list(logdir.iterdir()) == []  # no stub run directory, and the logdir stays
