"""The meta-controller: LLM planner + mediator + skills -> a distribution over the 7 actions.

Every step: the mediator turns the observation into a text; the planner gives that text's plan
distribution (cached); the hard planner (default) samples one plan and outputs the one-hot of the
action its skills choose, the soft planner outputs the probability-weighted mixture of every plan's
action. Noise options for robustness studies (docs/method.md section 2), off by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from planners.mediator import make_text, perceive, sort_key, split_text, vocabulary
from planners.planner import Planner
from planners.skills import parse_plan, plan_action
from utils.errors import UserError

N_ACTIONS = 7
NOISE_KINDS = ("none", "gaussian")


@dataclass
class TeacherConfig:
    soft: bool = False                 # --soft_planner
    llm_noise: str = "none"            # --LLM_noise: corrupt the perceived text
    llm_noise_ratio: float = 0.0
    pi_noise: str = "none"             # --pi_meta_controller_noise: perturb plan probabilities
    pi_noise_ratio: float = 0.0


@dataclass
class TeacherStats:
    unparsed_plan_items: int = 0   # plan items that became "wait"
    noisy_texts_unanswered: int = 0  # --LLM_noise produced a text without answers: truth kept
    steps: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class Teacher:
    task: str
    planner: Planner
    cfg: TeacherConfig = field(default_factory=TeacherConfig)
    seed: int = 0
    stats: TeacherStats = field(default_factory=TeacherStats)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self._vocab = vocabulary(self.task)
        self._counted_plans: set[str] = set()

    # ----- text and plans -----
    def _noisy_text(self, text: str) -> str:
        """--LLM_noise gaussian: each named object (and the held one) is swapped for another item
        of the task's vocabulary with weight ratio * clip(N(0.5, 0.2), 0, 1), against 1 for the
        truth."""
        seen, held = split_text(text)

        def swap(obj: str, pool: list[str]) -> str:
            others = [o for o in pool if o != obj]
            if not others:
                return obj
            weights = np.array([1.0] + [self.cfg.llm_noise_ratio * float(np.clip(
                self.rng.normal(0.5, 0.2), 0, 1)) for _ in others])
            return ([obj, *others])[self.rng.choice(len(weights), p=weights / weights.sum())]

        seen = list(dict.fromkeys(swap(o, self._vocab) for o in seen))  # drop duplicates
        carriable = [o for o in self._vocab if not o.split()[-1].startswith("door")]
        held = swap(held, carriable) if held else None
        return make_text(sorted(seen, key=sort_key), held)

    def _plans(self, text: str) -> list[tuple[str, float]]:
        if self.cfg.llm_noise == "gaussian" and self.cfg.llm_noise_ratio > 0:
            noisy = self._noisy_text(text)
            try:
                return self.planner.distribution(noisy)
            except UserError:  # an answer book without this (impossible) text
                self.stats.noisy_texts_unanswered += 1
        return self.planner.distribution(text)

    def _probabilities(self, plans: list[tuple[str, float]]) -> np.ndarray:
        p = np.array([q for _, q in plans], dtype=np.float64)
        if self.cfg.pi_noise == "gaussian" and self.cfg.pi_noise_ratio > 0:
            p = p + self.cfg.pi_noise_ratio * np.clip(self.rng.normal(0.5, 0.1, len(p)), 0, 1)
        return p / p.sum()

    # ----- actions -----
    def action_probs(self, obs: np.ndarray, deterministic: bool = False,
                     soft: bool | None = None) -> np.ndarray:
        """The teacher's distribution over the 7 actions for one observation (W, H, 4); ``soft``
        overrides --soft_planner (mix every plan's action by its probability)."""
        perception = perceive(self.task, obs)
        plans = self._plans(perception.text)
        probs = self._probabilities(plans)
        out = np.zeros(N_ACTIONS)
        self.stats.steps += 1
        if self.cfg.soft if soft is None else soft:
            for (plan, _), q in zip(plans, probs, strict=True):
                out[self._act(plan, obs, perception)] += q
            if deterministic:
                out = np.eye(N_ACTIONS)[int(out.argmax())]
        else:
            k = int(probs.argmax()) if deterministic else int(self.rng.choice(len(plans), p=probs))
            out[self._act(plans[k][0], obs, perception)] = 1.0
        return out

    def _act(self, plan: str, obs: np.ndarray, perception) -> int:
        parsed = parse_plan(plan)
        if parsed.n_unparsed and plan not in self._counted_plans:  # count each plan once
            self._counted_plans.add(plan)
            self.stats.unparsed_plan_items += parsed.n_unparsed
        return plan_action(parsed, obs, perception)

    def batch_probs(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """(N, 7) for a batch of observations (N, W, H, 4)."""
        return np.stack([self.action_probs(o, deterministic) for o in obs])

    def expected_probs(self, obs: np.ndarray) -> np.ndarray:
        """(N, 7): the action distribution with every plan weighed by its probability, which is
        what a hard teacher's sampled label is on average (a soft teacher's own label)."""
        return np.stack([self.action_probs(o, soft=True) for o in obs])


class TeacherPolicy:
    """A teacher acting alone (for run_episodes): an action sampled from its distribution, or the
    argmax with ``deterministic``. Works for any object with ``batch_probs(obs, deterministic)``."""

    def __init__(self, teacher, deterministic: bool = False, seed: int = 0) -> None:
        self.teacher, self.deterministic = teacher, deterministic
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        probs = self.teacher.batch_probs(obs[..., -4:], self.deterministic)  # the newest frame
        if self.deterministic:
            return probs.argmax(axis=1)
        cum = probs.cumsum(axis=1)
        return (cum < self.rng.random((len(probs), 1)) * cum[:, -1:]).sum(axis=1)

    def episodes_ended(self, ended: np.ndarray) -> None:
        pass
