"""Talking to an OpenAI-compatible chat server (FastChat, llama.cpp's llama-server, vLLM, ...).

Timeouts and bounded retries with backoff; a server that stays down raises LLMUnavailable with one
line naming the URL and what to do. Replies are free text: ``match_reply`` maps them onto the
candidate plans (or parses them into known skills) and returns None for replies it cannot use.
A JSON-constrained reply cut off at the token limit is asked once more with four times the limit.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass

from utils.errors import UserError

DEFAULT_URL = "http://localhost:8000/v1"  # FastChat's openai_api_server in the original README
DEFAULT_MODEL = "meta_controller"          # the FastChat worker name in the original README


@dataclass(frozen=True)
class Reply:
    text: str
    truncated: bool  # the server stopped it at the token limit (finish_reason "length")


class LLMUnavailable(UserError):
    """The server could not be reached after the retries (message: one line for the user)."""


@dataclass
class LLMConfig:
    url: str = DEFAULT_URL
    model: str = DEFAULT_MODEL
    temperature: float = 0.7
    max_tokens: int = 48
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 1.0
    constrain: bool = False  # JSON-schema response_format restricting replies to the candidates
    truncated_retry_factor: int = 4  # a cut-off JSON reply is asked again with this x max_tokens


class LLMClient:
    """One chat completion per call; ``ask`` returns the Reply (or raises LLMUnavailable)."""

    def __init__(self, cfg: LLMConfig) -> None:
        from openai import OpenAI  # deferred: only live-LLM runs need it

        self.cfg = cfg
        self.client = OpenAI(base_url=cfg.url, api_key=os.environ.get("OPENAI_API_KEY") or "EMPTY",
                             timeout=cfg.timeout, max_retries=0)
        self.model_name: str | None = None  # what the server says it runs (recorded with answers)
        self.truncation_retries = 0  # constrained replies asked again because they were cut off

    def ask(self, system: str, user: str, candidates: list[str]) -> Reply:
        reply = self._complete(system, user, candidates, self.cfg.max_tokens)
        if reply.truncated and self.cfg.constrain:  # JSON cut off (e.g. padded with whitespace)
            self.truncation_retries += 1
            reply = self._complete(system, user, candidates,
                                   self.cfg.max_tokens * self.cfg.truncated_retry_factor)
        return reply

    def _complete(self, system: str, user: str, candidates: list[str], max_tokens: int) -> Reply:
        import openai

        kwargs = {}
        if self.cfg.constrain:  # llama.cpp's server honours a JSON schema in response_format
            schema = {"type": "object", "required": ["plan"],
                      "properties": {"plan": {"type": "string", "enum": candidates}}}
            kwargs["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": "plan", "schema": schema}}
        last: Exception | None = None
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                time.sleep(self.cfg.backoff * 2 ** (attempt - 1))
            try:
                reply = self.client.chat.completions.create(
                    model=self.cfg.model, temperature=self.cfg.temperature,
                    max_tokens=max_tokens,
                    messages=[{"role": "system", "content": system},
                              {"role": "user", "content": user}], **kwargs)
                # llama.cpp reports the GGUF path as the model: keep the file name
                self.model_name = self.model_name or (reply.model or "").rsplit("/", 1)[-1] or None
                choice = reply.choices[0]
                return Reply(choice.message.content or "", choice.finish_reason == "length")
            except (openai.APIConnectionError, openai.APITimeoutError,
                    openai.InternalServerError, openai.RateLimitError) as exc:
                last = exc
            except openai.APIStatusError as exc:  # 4xx: retrying will not help
                raise LLMUnavailable(
                    f"the LLM server at {self.cfg.url} refused the request for model "
                    f"{self.cfg.model!r} (HTTP {exc.status_code}: {_first_line(exc)}); check "
                    "--llm_model and --llm_url") from None
        raise LLMUnavailable(
            f"no LLM server answers at {self.cfg.url} ({type(last).__name__} after "
            f"{self.cfg.retries + 1} tries): start one (see README, 'Plug in your own LLM') or "
            "drop --llm_url to use the shipped answers") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__


_PREFIX = re.compile(r"^(?:the\s+)?(?:next\s+)?(?:rational\s+)?(?:action|answer|plan)s?"
                     r"(?:\s+is)?\s*[:\-]\s*", re.IGNORECASE)


def normalise_plan(text: str) -> str:
    """Lower-case, one space, no quotes/brackets/trailing period: the form plans are compared in."""
    text = text.strip().lower()
    text = re.sub(r"^[\s\"'`\[\(]+|[\s\"'`\]\)\.!]+$", "", text)
    text = re.sub(r"\s*,\s*", ", ", text)
    text = re.sub(r"\s+", " ", text)
    return text.strip()


def _single_candidate(whole: str, norm: dict[str, str]) -> str | bool | None:
    """The one candidate the text names, ignoring candidates that lie inside a longer named one
    ("go to <key>, pick up <key>" inside "go to <key>, pick up <key>, go to <door>, ...").
    None if it names none; False if it names several (an echo of the offered list)."""
    spans = []
    for n, c in norm.items():
        start = whole.find(n) if n else -1
        while start >= 0:
            spans.append((start, start + len(n), c))
            start = whole.find(n, start + 1)
    outer = {c for a, b, c in spans
             if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) for a2, b2, _ in spans)}
    if not outer:
        return None
    return outer.pop() if len(outer) == 1 else False


def match_reply(reply: str, candidates: list[str], parses: callable | None = None) -> str | None:
    """Map one LLM reply onto a candidate plan; None if it cannot be used.

    Tried in order: a JSON object {"plan": ...}; the reply (first non-empty line, prefixes like
    "Answer:" removed) equal to a candidate; the one candidate the reply contains (a reply that
    contains several, such as an echo of the prompt's candidate list, is unusable); the reply
    itself if ``parses`` accepts it as a plan of known skills on known objects.
    """
    text = reply.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
            if isinstance(value, dict) and isinstance(value.get("plan"), str):
                text = value["plan"]
        except json.JSONDecodeError:
            pass
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return None
    first = _PREFIX.sub("", lines[0].strip().strip("*").strip())
    first = re.sub(r"^\d+[.)]\s*", "", first)
    norm = {normalise_plan(c): c for c in candidates}
    key = normalise_plan(first)
    if key in norm:
        return norm[key]
    named = _single_candidate(normalise_plan(" ".join(lines)), norm)
    if named is False:
        return None
    if named is not None:
        return named
    if parses is not None and parses(key):
        return key
    return None
