"""The training loop of one run (one seed): collect, update, evaluate, log, checkpoint."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import torch

from algos.collect import Carry, Collected, Collector
from algos.evaluate import SUMMARY_KEYS, evaluate, summarize
from algos.ppo import LOSS_KEYS, PPO
from algos.schedules import IterationPlan, learning_rate, plan_iteration
from algos.storage import RolloutStorage
from algos.teacher_critic import TeacherCriticLearner
from algos.twins import TwinMaker
from envs.vector import VecEnv, cycle_seeds
from models import ACModel, TeacherCritic, network_options
from planners.teacher_scalars import TEACHER_KEYS, teacher_scalars
from utils.checkpoint import (
    CHECKPOINT_NAME,
    FINISHED_NAME,
    load_latest,
    previous_path,
    save_checkpoint,
)
from utils.config import RESUME_MUST_MATCH, TrainConfig
from utils.errors import TrainingInterrupted, UserError
from utils.interrupts import Interrupts
from utils.logger import RunLogger
from utils.plots import plot_run
from utils.precision import describe as describe_precision
from utils.presets import upgrade
from utils.rundir import make_writable_dir

TRAIN_KEYS = [f"Train/{k}" for k in (*SUMMARY_KEYS, "Episodes", "SPS", *LOSS_KEYS, "Guidance Coef",
                                      "KS Coef", "Phase", "Teacher Agreement",
                                      "Teacher Critic Loss", "Learning Rate", "Twins",
                                      "Twins Unanswered", "Twins Relabelled")] + list(TEACHER_KEYS)
TEST_KEYS = [f"Test/{k}" for k in SUMMARY_KEYS]
# NaN by design: no variance of the returns (every return equal) leaves nothing to explain
NAN_IS_FINE = {"Explained Variance", "Train/Explained Variance"}

def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _set_param_groups(optimizer: torch.optim.Optimizer, key: str, value: float) -> None:
    """Set ``key`` (e.g. "lr") to ``value`` in every param group of a resumed optimizer."""
    for group in optimizer.param_groups:
        group[key] = value


def _changed_flag(saved: dict, flag: str, value: float) -> str | None:
    """A line to print if the checkpoint's run had another value of ``flag``. Flags, not the
    optimizer's current values: with --lr_schedule linear those differ on every resume."""
    had = saved.get(flag)
    if had is None or had == value:
        return None
    return f"resuming with --{flag} {value:g} (the checkpoint had {had:g})"


class Trainer:
    """Trains one student with one seed into ``run_dir``; resumes from its checkpoint if any."""

    def __init__(self, cfg: TrainConfig, seed: int, run_dir: Path) -> None:
        self.cfg, self.seed, self.run_dir = cfg, seed, run_dir
        self.device = torch.device(cfg.device)
        torch.manual_seed(seed)
        episode_seeds = cycle_seeds(cfg.env_seed_list) if cfg.env_seed_list else None
        self.vec = VecEnv(cfg.task, cfg.num_envs, seed=seed, frame_stack=cfg.frame_stack,
                          episode_seeds=episode_seeds)
        self.model = ACModel(self.vec.single_obs_shape, 7, cfg.recurrent,
                             **network_options(cfg)).to(self.device)
        self.model.set_precision(cfg.precision)
        self.algo = PPO(self.model, cfg)
        self.teacher = self.critic = self.critic_learner = None
        if cfg.algo in ("ihac", "llm4teach"):
            from planners import build_teacher

            self.teacher = build_teacher(cfg, record_dir=run_dir, seed=seed)
        if cfg.algo == "ihac":
            self.critic = TeacherCritic(self.vec.single_obs_shape,
                                        **network_options(cfg)).to(self.device)
            self.critic.set_precision(cfg.precision)
            self.critic_learner = TeacherCriticLearner(self.critic, cfg)
        self.recurrence = self.algo.recurrence
        n = cfg.num_envs
        capacity = (self.vec.max_steps * math.ceil(cfg.traj_per_itr / n)
                    + math.ceil(2 * cfg.batch_size / n) + self.recurrence)
        self.storage = RolloutStorage(capacity, n, self.vec.single_obs_shape,
                                      self.model.memory_size, self.device)
        # action sampling on the networks' device; minibatch shuffling on the CPU (the same
        # minibatches on every device)
        self.sample_gen = torch.Generator(self.device).manual_seed(seed)
        self.minibatch_gen = torch.Generator().manual_seed(seed + 1)  # minibatch shuffling
        twins = None if cfg.twins == "none" else TwinMaker(cfg.twins, self.teacher, seed,
                                                          cfg.twin_keep)
        self.collector = Collector(cfg, self.vec, self.model, self.storage, self.sample_gen,
                                   self.teacher, self.critic, twins)
        self.counters = {"iteration": 0, "env_steps": 0, "updates": 0, "episodes": 0,
                         "imitation_iterations": 0,
                         "target_streak": 0}  # evaluations in a row at --target_success
        self.last_eval: tuple[int, float] | None = None  # (iteration, success rate)
        self.resumed = self._maybe_resume()
        self.saved_iteration = self.counters["iteration"] if self.resumed else None

    # ----- checkpoints -----
    def _config_dict(self) -> dict:
        # what ran the arithmetic, recorded beside the flags (a bf16 run on a CPU without bf16
        # hardware is emulated)
        return {**self.cfg.to_dict(), "seed": self.seed,
                "precision_used": describe_precision(self.device, self.cfg.precision)}

    def _maybe_resume(self) -> bool:
        path = self.run_dir / CHECKPOINT_NAME
        if not path.exists():
            if (self.run_dir / FINISHED_NAME).exists():
                raise UserError(f"{self.run_dir} is a finished run whose checkpoint is not here "
                                f"(its {FINISHED_NAME} and logs are): use another --savedir")
            if not previous_path(path).exists():
                return False
        state, note = load_latest(path, task=self.cfg.task)
        if note:
            print(note, flush=True)
        saved = state["config"]
        had_flags = upgrade(saved)  # a key older checkpoints lack had its legacy default
        for key in RESUME_MUST_MATCH:
            had = had_flags.get(key, getattr(TrainConfig(), key))
            if had != getattr(self.cfg, key):
                raise UserError(f"{self.run_dir} holds a run with --{key} {had}, not "
                                f"{getattr(self.cfg, key)}: give --{key} {had} to resume it, or "
                                "use another --savedir")
        done = state["counters"]["iteration"]
        if saved.get("target_success", 0.0) != self.cfg.target_success:
            state["counters"]["target_streak"] = 0  # evaluations held another target
        if self._finished(state["counters"]):
            how = ("--target_success 0 (or a higher one) to train on to the budget"
                   if self._solved(state["counters"]) else "a larger --n_itr / --total_env_steps")
            raise UserError(f"{self.run_dir} is a finished run ({done} iterations, "
                            f"{state['counters']['env_steps']:,} env steps): use another "
                            f"--savedir, or {how} to continue it")
        self.model.load_state_dict(state["model"])
        self.algo.optimizer.load_state_dict(state["optimizer"])
        self.counters.update(state["counters"])
        # a loaded optimizer state carries the hyperparameters it was saved with: this command's
        # flags win (config.json records them)
        _set_param_groups(self.algo.optimizer, "lr", learning_rate(self.cfg, self.counters))
        _set_param_groups(self.algo.optimizer, "eps", self.cfg.adam_eps)
        flags = ("lr", "adam_eps") + (("tc_lr",) if self.critic is not None else ())
        changed = [_changed_flag(saved, flag, getattr(self.cfg, flag)) for flag in flags]
        if self.critic is not None:
            self.critic.load_state_dict(state["teacher_critic"])
            self.critic_learner.optimizer.load_state_dict(state["teacher_critic_optimizer"])
            _set_param_groups(self.critic_learner.optimizer, "lr", self.cfg.tc_lr)
        (self.run_dir / FINISHED_NAME).unlink(missing_ok=True)  # it goes on: not finished now
        torch.set_rng_state(state["rng"]["torch"])
        self.minibatch_gen.set_state(state["rng"]["minibatch"])
        saved_on = state["rng"].get("sample_device", "cpu")
        if saved_on == self.device.type:
            self.sample_gen.set_state(state["rng"]["sample"])
        else:  # a CPU and a CUDA generator's states do not convert into each other
            changed.append(f"resuming on {self.device.type} a run saved on {saved_on}: action "
                           f"sampling restarts its random stream (seed {self.seed})")
        print(f"resuming {self.run_dir} from iteration {done} ({self.counters['env_steps']:,} env "
              "steps); environments restart with fresh episodes")
        for message in filter(None, changed):
            print(message)
        return True

    def _finished(self, counters: dict[str, int]) -> bool:
        budget = self.cfg.total_env_steps
        return counters["iteration"] >= self.cfg.n_itr or (
            budget > 0 and counters["env_steps"] >= budget) or self._solved(counters)

    def _solved(self, counters: dict[str, int]) -> bool:
        """--target_success held over --target_evals evaluations in a row (0: never)."""
        return self.cfg.target_success > 0 and \
            counters.get("target_streak", 0) >= self.cfg.target_evals

    def _check_finite(self, scalars: dict[str, float]) -> None:
        """Stop with one line if the update turned anything non-finite: nothing of this
        iteration is logged or saved, and the last checkpoint stands."""
        bad = [k for k, v in scalars.items()
               if k not in NAN_IS_FINE and isinstance(v, float) and not math.isfinite(v)]
        nets = [("the student", self.model), ("the teacher critic", self.critic)]
        bad += [f"{who}'s parameters" for who, net in nets if net is not None  # one read each
                and not bool(torch.stack([torch.isfinite(p).all() for p in net.parameters()])
                             .all())]
        if bad:
            saved = self.saved_iteration
            raise UserError(
                f"training turned non-finite at iteration {self.counters['iteration'] + 1} "
                f"({', '.join(bad)}): nothing of it is saved; "
                + (f"the checkpoint of iteration {saved} stands" if saved is not None
                   else "no checkpoint was written") + "; lower --lr or --max_grad_norm")

    def save(self) -> None:
        state = {
            "model": self.model.state_dict(), "optimizer": self.algo.optimizer.state_dict(),
            "counters": dict(self.counters), "config": self._config_dict(),
            "rng": {"torch": torch.get_rng_state(), "sample": self.sample_gen.get_state(),
                    "sample_device": self.device.type,
                    "minibatch": self.minibatch_gen.get_state()},
        }
        if self.critic is not None:
            state["teacher_critic"] = self.critic.state_dict()
            state["teacher_critic_optimizer"] = self.critic_learner.optimizer.state_dict()
        save_checkpoint(self.run_dir / CHECKPOINT_NAME, state)
        self.saved_iteration = self.counters["iteration"]

    # ----- one iteration -----
    def plan(self) -> IterationPlan:
        """The plan of the next iteration, from the progress so far."""
        return plan_iteration(self.cfg, self.counters)

    def _evaluate(self) -> dict[str, float]:
        result = evaluate(self.model, self.cfg.task, self.cfg.num_eval,
                          num_envs=self.cfg.num_envs, frame_stack=self.cfg.frame_stack,
                          deterministic=self.cfg.deterministic, device=self.device,
                          seed=self.seed)
        summary = result.summary()
        self.last_eval = (self.counters["iteration"], summary["Success Rate"])
        reached = summary["Success Rate"] >= self.cfg.target_success > 0
        self.counters["target_streak"] = self.counters.get("target_streak", 0) + 1 if reached else 0
        return {f"Test/{k}": v for k, v in summary.items()}

    # ----- the loop -----
    def train(self) -> None:
        cfg = self.cfg
        make_writable_dir(self.run_dir)
        (self.run_dir / "config.json").write_text(json.dumps(self._config_dict(), indent=2) + "\n")
        logger = RunLogger(self.run_dir, TRAIN_KEYS + TEST_KEYS,
                           resume_at=(self.counters["iteration"], self.counters["env_steps"])
                           if self.resumed else None)
        carry = Carry(self.vec.reset(), torch.zeros(cfg.num_envs, self.model.memory_size)
                      if self.model.recurrent else None, torch.ones(cfg.num_envs))
        start = (self.counters["iteration"], self.counters["env_steps"], time.time())
        interrupts = Interrupts()
        try:
            with interrupts:
                while not self._finished(self.counters):
                    t0 = time.time()
                    plan = self.plan()
                    carry, collected = self.collector.collect(carry, plan)
                    with interrupts.deferred():  # the iteration is committed whole or not at all
                        self._commit(plan, collected, logger, t0, start)
            # the last iteration saved the checkpoint; only then is the run marked finished
            (self.run_dir / FINISHED_NAME).write_text(json.dumps(self.counters) + "\n")
        except KeyboardInterrupt:
            done = self.counters["iteration"]
            code = 128 + (interrupts.signum or 2)
            if interrupts.forced:
                raise TrainingInterrupted(
                    f"interrupted twice ({interrupts.name}) during an update: nothing saved; the "
                    f"checkpoint in {self.run_dir} stands; run the same command again to resume",
                    code) from None
            self.save()
            raise TrainingInterrupted(
                f"interrupted ({interrupts.name}): checkpoint saved at iteration {done} in "
                f"{self.run_dir}; run the same command again to resume", code) from None
        finally:
            logger.close()
            self.vec.close()

    def _commit(self, plan: IterationPlan, collected: Collected, logger: RunLogger, t0: float,
                start: tuple[int, int, float]) -> None:
        """The rest of an iteration after its collection: the updates, the counters, the
        evaluation when due, the log row and the checkpoint when due."""
        cfg, steps, episodes = self.cfg, collected.steps, collected.episodes
        c = self.counters
        extra = {}
        # encode the rollout once for every epoch of both networks (they share the encoding)
        self.storage.encode_observations(
            self.model.encode, ("obs", "next_obs") if plan.consult_critic else ("obs",))
        if plan.consult_critic:
            extra["Train/Teacher Critic Loss"] = self.critic_learner.update(
                self.storage, self.model, self.minibatch_gen)
        extra["Train/Learning Rate"] = plan.lr
        losses, gradient_steps = self.algo.update(self.storage, self.minibatch_gen, plan,
                                                  collected.twins)
        if collected.twins is not None:
            extra.update({"Train/Twins": len(collected.twins),
                          "Train/Twins Unanswered": collected.twins.unanswered,
                          "Train/Twins Relabelled": collected.twins.relabelled})
        self._check_finite({**losses, **extra})
        if self.teacher is not None:
            extra.update({"Train/Guidance Coef": plan.guide, "Train/KS Coef": plan.ks,
                          "Train/Phase": plan.phase})
        if plan.consult_teacher:
            extra.update({"Train/Teacher Agreement": collected.agreement,
                          **teacher_scalars(self.teacher)})
        c["iteration"] += 1
        c["imitation_iterations"] += int(plan.imitating)
        c["env_steps"] += steps
        c["updates"] += gradient_steps
        c["episodes"] += len(episodes)
        train = summarize(episodes)
        scalars = {**{f"Train/{k}": v for k, v in train.items()},
                   "Train/Episodes": len(episodes),
                   "Train/SPS": steps / (time.time() - t0),
                   **{f"Train/{k}": v for k, v in losses.items()}, **extra}
        last = self._finished(c)
        every = cfg.eval_every_steps
        crossed = every > 0 and c["env_steps"] // every > (c["env_steps"] - steps) // every
        if c["iteration"] % cfg.eval_interval == 0 or last or crossed:
            scalars.update(self._evaluate())
            if self._solved(c) and not last:
                last = True
                print(f"solved: the student alone reached {c['target_streak']} evaluations in a "
                      f"row at success >= {cfg.target_success:g} ({c['env_steps']:,} env steps); "
                      "stopping (--target_success 0 trains the whole budget)", flush=True)
        logger.log(c["iteration"], c["env_steps"], scalars)
        if c["iteration"] % cfg.save_interval == 0 or last:
            self.save()
            plot_run(self.run_dir, f"{cfg.algo} on {cfg.task}, seed {self.seed}")
        if c["iteration"] % cfg.print_interval == 0 or last:
            self._print_progress(scalars, self._eta(*start))

    def _eta(self, start_itr: int, start_steps: int, start_time: float) -> float:
        """Seconds left at this session's pace, by iterations or env steps, whichever ends first."""
        c, cfg = self.counters, self.cfg
        per_itr = (time.time() - start_time) / max(1, c["iteration"] - start_itr)
        eta = per_itr * (cfg.n_itr - c["iteration"])
        if cfg.total_env_steps:
            per_step = (time.time() - start_time) / max(1, c["env_steps"] - start_steps)
            eta = min(eta, per_step * max(0, cfg.total_env_steps - c["env_steps"]))
        return eta

    def _print_progress(self, scalars: dict[str, float], eta: float) -> None:
        c, cfg = self.counters, self.cfg
        ev = "-" if self.last_eval is None else \
            f"{self.last_eval[1]:.2f} (itr {self.last_eval[0]})"
        budget = f"/{cfg.total_env_steps:,}" if cfg.total_env_steps else ""
        print(f"itr {c['iteration']}/{cfg.n_itr} | steps {c['env_steps']:,}{budget} | "
              f"{scalars['Train/SPS']:,.0f} steps/s | train success "
              f"{scalars['Train/Success Rate']:.2f} | eval success {ev} | "
              f"ETA {format_duration(eta)}", flush=True)

