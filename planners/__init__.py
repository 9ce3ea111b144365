"""The LLM teacher ("meta-controller"): mediator (obs <-> text), skills, planner, answers.

``build_teacher(cfg)`` chooses the teacher's source from the flags: the shipped answers of the task
(default, no network), ``--answers_file`` (e.g. what a live run recorded), and/or a live
OpenAI-compatible server with ``--llm_url``; ``--offline_planner`` forbids the network;
``--uniform_planner`` uses no LLM at all (every offered plan equally likely); ``--oracle_planner``
neither: the rule-based right plans of planners/oracle.py.
"""

from __future__ import annotations

from pathlib import Path

from planners.answers import SHIPPED_DIR, AnswerBook
from planners.llm import LLMClient, LLMConfig
from planners.oracle import OracleTeacher
from planners.planner import Planner
from planners.teacher import Teacher, TeacherConfig

RECORD_NAME = "llm_answers.json"


def build_planner(cfg, record_dir: Path | None = None, answers_file: str | None = None,
                  uniform: bool = False) -> Planner:
    """The planner the flags ask for (``cfg``: the task and the LLM flags); a live LLM records
    every answer in record_dir."""
    shipped_path = SHIPPED_DIR / f"{cfg.task.lower()}.json"
    shipped = AnswerBook.load(cfg.task) if (shipped_path.exists() or not cfg.llm_url) else None
    book = None
    if answers_file:
        book = AnswerBook.load(cfg.task, Path(answers_file))
    elif not cfg.llm_url:
        book = shipped
    llm = None
    if cfg.llm_url:
        llm = LLMClient(LLMConfig(url=cfg.llm_url, model=cfg.llm_model,
                                  temperature=cfg.llm_temperature, timeout=cfg.llm_timeout,
                                  retry_seconds=cfg.llm_retry_seconds,
                                  constrain=cfg.llm_constrain,
                                  unconstrained=cfg.llm_unconstrained,
                                  max_tokens=cfg.llm_max_tokens))
    # the candidate plans offered with each text come with the shipped file
    choices = {} if shipped is None else {
        t: e["candidates"] for t, e in shipped.entries.items() if e.get("candidates")}
    record = llm is not None and record_dir is not None
    return Planner(cfg.task, book=book, llm=llm, n_ask=cfg.n_ask, choices=choices,
                   uniform=uniform,
                   record_path=(record_dir / RECORD_NAME) if record else None,
                   record_base=dict(book.entries) if (record and book is not None) else {})


def build_teacher(cfg, record_dir: Path | None = None, seed: int = 0) -> Teacher | OracleTeacher:
    if cfg.oracle_planner:
        return OracleTeacher(cfg.task)
    tcfg = TeacherConfig(soft=cfg.soft_planner, llm_noise=cfg.LLM_noise,
                         llm_noise_ratio=cfg.LLM_noise_ratio, pi_noise=cfg.pi_meta_controller_noise,
                         pi_noise_ratio=cfg.pi_meta_controller_noise_ratio)
    planner = build_planner(cfg, record_dir, cfg.answers_file, cfg.uniform_planner)
    return Teacher(cfg.task, planner, tcfg, seed=seed)
