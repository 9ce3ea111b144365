"""The command line over each command's config (utils/config.py COMMANDS): one flag per field,
errors as one line and exit code 2."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any, NoReturn

from utils.config import COMMANDS, CommandConfig, TrainConfig
from utils.errors import UserError
from utils.presets import apply_preset


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus a message; we print one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        hint = "python main.py train|eval|answers|plot|serve|sweep --help" \
            if self.prog == "main.py" else f"python {self.prog} --help"
        print(f"error: {message} (see: {hint})", file=sys.stderr)
        sys.exit(2)


def _add_flags(parser: argparse.ArgumentParser, command: str, given_only: bool = False) -> None:
    """One flag per field of the command's config; ``given_only``: parse only the flags on the
    command line (every default is argparse.SUPPRESS)."""
    for f in dataclasses.fields(COMMANDS[command]):
        meta = f.metadata
        kwargs: dict[str, Any] = {"help": meta["help"], "default": f.default}
        if f.type in ("bool",):
            kwargs["action"] = "store_true"
        else:
            kwargs["type"] = {"int": int, "float": float}.get(f.type.split(" |")[0]) or (
                int if "list[int]" in f.type else str)
            if "nargs" in meta:
                kwargs["nargs"] = meta["nargs"]
            if "choices" in meta:
                kwargs["choices"] = meta["choices"]
            if "const" in meta:
                kwargs["const"] = meta["const"]
            if meta.get("required"):
                kwargs["required"] = True
            if (f.default is None and f.name in ("task", "savedir")) or (
                    f.name == "loaddir" and command == "eval"):
                kwargs["required"] = True
            if f.default not in (None, False) and not isinstance(f.default, tuple):
                kwargs["help"] += f" (default: {f.default})"
            elif isinstance(f.default, tuple):
                kwargs["default"] = list(f.default)
                kwargs["help"] += f" (default: {' '.join(map(str, f.default))})"
        if given_only:
            kwargs["default"] = argparse.SUPPRESS
        parser.add_argument(f"--{f.name}", **kwargs)


def build_parser(given_only: bool = False) -> argparse.ArgumentParser:
    parser = OneLineParser(prog="main.py", description="IHAC / LLM4Teach / PPO on MiniGrid.")
    sub = parser.add_subparsers(dest="command", metavar="{train,eval,answers,plot,serve,sweep}",
                                parser_class=OneLineParser)
    sub.required = True
    helps = {"train": "train a student", "eval": "evaluate a trained student, or the teacher",
             "answers": "record teacher answers for every text of a task from an LLM",
             "plot": "eval-success curves, CSV and table of several runs",
             "serve": "a local OpenAI-compatible LLM server (llama.cpp) to pass as --llm_url"}
    for command, text in helps.items():
        _add_flags(sub.add_parser(command, help=text), command, given_only)
    # listed for --help only: main.py hands `sweep` to sweep/plan.py's parser
    sub.add_parser("sweep", help="many runs (tasks x algorithms x variants x seeds) on Ray: "
                   "python main.py sweep --help")
    return parser


# the ten flags the three schedules had before each became one flag (utils/schedule_flags.py)
OLD_SCHEDULE_FLAGS = {"imitation_frac": "--imitation F", "imitation_itr": "--imitation Nitr",
                      "guide_end_frac": "--guidance linear:F", "guide_decay": "--guidance decay:D/K",
                      "guide_decay_every": "--guidance decay:D/K",
                      "ks_end_frac": "--kickstart linear:F",
                      "ks_decrement": "--kickstart step:S/MIN/U",
                      "ks_min": "--kickstart step:S/MIN/U", "ks_updates": "--kickstart step:S/MIN/U"}


def _refuse_old_schedule_flags(argv: list[str]) -> None:
    for arg in argv:
        name = arg[2:].partition("=")[0] if arg.startswith("--") else ""
        if name in OLD_SCHEDULE_FLAGS:
            raise UserError(f"--{name} is gone: each schedule is one flag now, "
                            f"{OLD_SCHEDULE_FLAGS[name]} (docs/flags.md)")


def parse_config(argv: list[str] | None = None) -> tuple[str, CommandConfig]:
    """Parse the command line into (command, the command's validated config)."""
    _refuse_old_schedule_flags(sys.argv[1:] if argv is None else argv)
    args = vars(build_parser().parse_args(argv))
    given = set(vars(build_parser(given_only=True).parse_args(argv))) - {"command"}
    command = args.pop("command")
    cfg = COMMANDS[command](**args)
    if isinstance(cfg, TrainConfig):
        apply_preset(cfg, given)
    cfg.validate()
    if isinstance(cfg, TrainConfig):  # before anything is written: a rollout this machine cannot hold
        from envs import make_env

        cfg.check_memory(make_env(cfg.task).observation_space.shape)
    return command, cfg
