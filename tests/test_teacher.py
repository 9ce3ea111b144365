"""The teacher with the shipped answers (no LLM): eval --eval_teacher, success floors per task."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from algos.evaluate import run_episodes
from main import main
from planners.answers import AnswerBook
from planners.mediator import enumerate_texts
from planners.planner import Planner
from planners.teacher import Teacher, TeacherPolicy
from tests.conftest import TINY

# hard planner, shipped answers, 50 held-out rooms; floors a little below bench/teacher.py's
# measurement (the weak tasks are weak because of their answers: see README, "The teacher")
# (100 rooms: 1.00, 1.00, 0.40, 0.79, 1.00, 0.90, 0.63, 0.33)
FLOORS = {"SimpleDoorKey": 0.95, "LavaDoorKey": 0.95, "ColoredDoorKey": 0.3, "TwoDoor": 0.7,
          "KeyInBox": 0.9, "RandomBoxKey": 0.35, "DynamicDoorKey": 0.5,
          "RandomColoredDoorKey": 0.2}


@pytest.mark.parametrize("task", list(FLOORS))
def test_teacher_success_floor(task: str):
    teacher = Teacher(task, Planner(task, AnswerBook.load(task)))
    summary = run_episodes(TeacherPolicy(teacher), task, 50, num_envs=10).summary()
    assert summary["Success Rate"] >= FLOORS[task], summary
    assert teacher.planner.stats.llm_calls == 0


def test_eval_teacher_without_a_student(tmp_path: Path, capsys):
    assert main(["eval", "--task", "SimpleDoorKey", "--loaddir", "none", "--savedir", "teacher",
                 "--logdir", str(tmp_path), "--eval_teacher", "--num_eval", "6",
                 "--num_videos", "1", "--offline_planner"]) == 0
    out = capsys.readouterr().out
    assert "teacher: answers from" in out and "vicuna" in out  # the source line
    assert "teacher (hard planner): mean return" in out
    run = tmp_path / "ppo" / "simpledoorkey" / "none" / "teacher"
    results = json.loads((run / "results.json").read_text())
    assert results["episodes"] == 6 and results["planner"]["llm_calls"] == 0
    assert results["planner"]["cache_hits"] > 0
    assert (run / "episode_0.gif").exists() and list(run.glob("events.out.tfevents.*"))


@pytest.fixture(scope="module")
def twodoor_student(tmp_path_factory) -> Path:
    """The logdir of a TwoDoor student, trained once for the variants below: it only has to
    exist (raw input keeps the 20 x 20 network small); each variant evaluates a copy."""
    logdir = tmp_path_factory.mktemp("student")
    assert main(["train", "--task", "TwoDoor", "--savedir", "train", "--logdir", str(logdir),
                 "--obs_encoding", "raw", *TINY]) == 0
    return logdir


@pytest.mark.parametrize("flags", [["--soft_planner"], ["--deterministic"],
                                   ["--soft_planner", "--deterministic"],
                                   ["--pi_meta_controller_noise", "gaussian",
                                    "--pi_meta_controller_noise_ratio", "0.5",
                                    "--LLM_noise", "gaussian", "--LLM_noise_ratio", "0.5"]])
def test_eval_meta_controller_variants_beside_a_trained_student(tmp_path: Path, flags, capsys,
                                                                twodoor_student: Path):
    shutil.copytree(twodoor_student, tmp_path, dirs_exist_ok=True)
    assert main(["eval", "--task", "TwoDoor", "--loaddir", "train", "--savedir", "t",
                 "--logdir", str(tmp_path), "--eval_meta_controller", "--num_eval", "3",
                 "--num_videos", "0", *flags]) == 0
    results = json.loads((tmp_path / "ppo" / "twodoor" / "train" / "t" / "results.json")
                         .read_text())
    assert results["teacher"] == ("soft planner" if "--soft_planner" in flags else "hard planner")
    assert 0 <= results["Success Rate"] <= 1


@pytest.mark.parametrize("args,message", [
    (["--offline_planner", "--llm_url", "http://127.0.0.1:9/v1"], "--offline_planner"),
    (["--answers_file", "/nonexistent/answers.json"], "no answer file"),
    (["--n_ask", "0"], "--n_ask"),
])
def test_teacher_flag_errors(tmp_path: Path, capsys, args, message):
    code = main(["eval", "--task", "SimpleDoorKey", "--loaddir", "x", "--savedir", "y",
                 "--logdir", str(tmp_path), "--eval_teacher", "--num_eval", "1", *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "\n" not in err


def test_answers_file_of_another_task_is_refused(tmp_path: Path, capsys):
    code = main(["eval", "--task", "TwoDoor", "--loaddir", "x", "--savedir", "y", "--logdir",
                 str(tmp_path), "--eval_teacher", "--answers_file",
                 str(Path(__file__).resolve().parents[1] / "planners/answers/keyinbox.json")])
    assert code == 2 and "for task KeyInBox" in capsys.readouterr().err


def test_answers_command_needs_a_source(capsys):
    code = main(["answers", "--task", "KeyInBox"])
    assert code == 2 and "--llm_url" in capsys.readouterr().err


def test_answers_command_from_the_published_tables(tmp_path: Path, capsys):
    """`main.py answers --from_published` needs no LLM: a file of every text the task can
    produce, which the teacher loads."""
    out = tmp_path / "answers.json"
    assert main(["answers", "--task", "SimpleDoorKey", "--from_published", "--out",
                 str(out)]) == 0
    texts = enumerate_texts("SimpleDoorKey")
    assert f"covers {len(texts)} of the {len(texts)} texts" in capsys.readouterr().out
    assert set(AnswerBook.load("SimpleDoorKey", out).entries) == set(texts)
