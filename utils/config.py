"""Each command's config, composed of sections of flags (utils/config_sections.py).

``COMMANDS`` maps each command to its config: a command sees exactly its own flags. A config
validates each flag's rules, then each section's ``check``, then its own ``check`` (what spans
sections). ``TrainConfig`` is also what a run's config.json and checkpoint record.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Any

from utils.config_sections import (
    IHAC,
    LLM,
    AnswersOnly,
    EvalOnly,
    Evaluation,
    LogRoot,
    Machine,
    Network,
    PlotFlags,
    PPOFlags,
    Progress,
    RunDir,
    ServeFlags,
    Task,
    Teacher,
    TrainRun,
)
from utils.errors import UserError
from utils.flags import check_fields, check_sections
from utils.presets import upgrade


class CommandConfig:
    """What every command's config can do: check itself, become a dict."""

    def validate(self) -> Any:
        """Normalise and check every field; raise UserError naming the bad value."""
        check_fields(self)
        check_sections(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_TRAIN = (Task, RunDir, LogRoot, TrainRun, PPOFlags, Network, Machine, Evaluation, Progress, LLM,
          Teacher, IHAC)


# each command's sections, in the order of its flags (a dataclass takes its bases' fields in
# reverse order, hence the [::-1] below)
_EVAL = (Task, RunDir, LogRoot, EvalOnly, Machine, Evaluation, LLM, Teacher)
_ANSWERS = (Task, LogRoot, LLM, AnswersOnly)


@dataclass
class TrainConfig(*_TRAIN[::-1], CommandConfig):
    """`train`: one run per seed. Also what a run's config.json and checkpoint record."""

    def check(self) -> None:
        """What spans sections: no training room is a held-out room; --twins needs a teacher's
        loss and a student without memory (a twin has no history of its own)."""
        self._check_held_out()
        if self.twins != "none" and self.algo == "ppo":
            raise UserError(f"--twins {self.twins} is labelled by the teacher: use --algo ihac "
                            "or llm4teach, or --twins none")
        for name, default in (("twin_keep", "all"), ("twin_span", "teacher")):
            if self.twins == "none" and getattr(self, name) != default:
                raise UserError(f"--{name} {getattr(self, name)} is about colour twins: give "
                                "--twins swap or paint too")
        if self.twins != "none" and self.recurrent:
            raise UserError(f"--twins {self.twins} needs a student without --recurrent (a twin "
                            "has no memory of its own)")

    def _check_held_out(self) -> None:
        """No training room may be a held-out room (the rooms every evaluation plays)."""
        from envs.vector import HELD_OUT_SEEDS as held
        from envs.vector import first_room_seeds

        for s in self.env_seed_list or []:
            if s in held:
                raise UserError(f"--env_seed_list {s} is a held-out evaluation room (env seeds "
                                f"{held.start:,} to {held.stop - 1:,}); use another seed")
        for s in self.seed_list:
            clash = [r for r in first_room_seeds(s, self.num_envs) if r in held]
            if clash:
                raise UserError(
                    f"--seed_list {s} would train on held-out evaluation rooms (env seeds "
                    f"{held.start:,} to {held.stop - 1:,}; env i starts on seed {s} + 10000 * i, "
                    f"e.g. {clash[0]:,}); use a seed below "
                    f"{held.start - 10000 * (self.num_envs - 1):,} or from {held.stop:,}")

    def check_memory(self, obs_shape: tuple[int, ...]) -> None:
        """Refuse a rollout storage larger than this machine's memory, saying how large."""
        need = rollout_bytes(self, obs_shape)
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        if need > have:
            raise UserError(
                f"--batch_size {self.batch_size} --traj_per_itr {self.traj_per_itr} --num_envs "
                f"{self.num_envs} need {need / 1e9:,.0f} GB of rollout storage; this machine "
                f"has {have / 1e9:,.0f} GB: lower them")


@dataclass
class EvalConfig(*_EVAL[::-1], CommandConfig):
    """`eval`: a trained student, or the teacher alone, on the held-out rooms."""


@dataclass
class AnswersConfig(*_ANSWERS[::-1], CommandConfig):
    """`answers`: record the teacher's answers for every text of a task."""


@dataclass
class PlotConfig(PlotFlags, CommandConfig):
    """`plot`: compare runs."""


@dataclass
class ServeConfig(ServeFlags, CommandConfig):
    """`serve`: a local llama.cpp server."""


COMMANDS: dict[str, type[CommandConfig]] = {
    "train": TrainConfig, "eval": EvalConfig, "answers": AnswersConfig, "plot": PlotConfig,
    "serve": ServeConfig}
# what must agree between a checkpoint and the command that resumes it
RESUME_MUST_MATCH = ("task", "algo", "policy", *(f.name for f in dataclasses.fields(Network)))


def flag_choices(name: str) -> tuple[str, ...]:
    """The values a training flag accepts (for scripts that build networks outside main.py)."""
    return next(f.metadata["choices"] for f in dataclasses.fields(TrainConfig) if f.name == name)


def config_from_dict(d: dict[str, Any]) -> TrainConfig:
    """Rebuild the TrainConfig saved in a checkpoint or config.json: a run saved before a flag
    existed gets what it had instead (utils/presets.py upgrade); unknown keys are ignored."""
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    cfg = TrainConfig()
    for k, v in upgrade(d).items():
        if k in names:
            setattr(cfg, k, v)
    return cfg


def rollout_bytes(cfg: TrainConfig, obs_shape: tuple[int, ...]) -> int:
    """Bytes of one iteration's rollout storage (algos/storage.py) for these flags: two uint8
    observations (obs, next_obs) and 22 four-byte numbers per env step, over the capacity the
    trainer allocates."""
    n = cfg.num_envs
    capacity = 150 * math.ceil(cfg.traj_per_itr / n) + math.ceil(2 * cfg.batch_size / n) + 1
    per_step = 2 * math.prod(obs_shape) * cfg.frame_stack + 4 * 22
    return capacity * n * per_step
