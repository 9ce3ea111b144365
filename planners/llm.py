"""Talking to an OpenAI-compatible chat server (FastChat, llama.cpp's llama-server, vLLM, ...).

Timeouts, and retries with backoff for as long as a model worker takes to restart
(``retry_seconds``); then one line that says what is known: nothing answers at the URL, the
server answers but serves no model or fails (its worker gone), or it serves other models (listed).
With ``constrain`` a JSON schema asks for one of the candidates; the first reply shows whether
the server honours it (llama.cpp does; FastChat accepts the schema and ignores it): if it does not,
the run stops, or goes on parsing free text, as ``unconstrained`` says, and says so once.
Replies are free text to ``match_reply``: it maps them onto the candidate plans or returns None.
"""

from __future__ import annotations

import json
import os
import re
import sys
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
    """The server could not be used after the retries (message: one line for the user)."""


@dataclass
class LLMConfig:
    url: str = DEFAULT_URL
    model: str = DEFAULT_MODEL
    temperature: float = 0.7
    max_tokens: int = 48
    timeout: float = 60.0
    retry_seconds: float = 60.0  # keep retrying this long (a FastChat worker restart: ~30 s)
    backoff: float = 1.0         # first wait; doubles up to max_backoff
    max_backoff: float = 10.0
    constrain: bool = False  # JSON-schema response_format restricting replies to the candidates
    unconstrained: str = "stop"  # the server ignores the schema: "stop" or "free_text"
    truncated_retry_factor: int = 4  # a cut-off JSON reply is asked again with this x max_tokens


class _Retry(Exception):
    """One failed try that a later try may fix; ``answered``: the server itself answered."""

    def __init__(self, what: str, answered: bool) -> None:
        super().__init__(what)
        self.answered = answered


class LLMClient:
    """One chat completion per call; ``ask`` returns the Reply (or raises LLMUnavailable)."""

    def __init__(self, cfg: LLMConfig) -> None:
        from openai import OpenAI  # deferred: only live-LLM runs need it

        self.cfg = cfg
        self.client = OpenAI(base_url=cfg.url, api_key=os.environ.get("OPENAI_API_KEY") or "EMPTY",
                             timeout=cfg.timeout, max_retries=0)
        self.model_name: str | None = None  # what the server says it runs (recorded with answers)
        self.truncation_retries = 0  # constrained replies asked again because they were cut off
        # the JSON schema: "off" (not asked), "unchecked" (no reply yet), "honoured", "ignored"
        self.schema = "unchecked" if cfg.constrain else "off"
        self.sleep = time.sleep  # (tests replace it)

    @property
    def constrained(self) -> bool:
        """Replies are JSON restricted to the candidates (asked for, and not found ignored)."""
        return self.schema in ("unchecked", "honoured")

    def describe_schema(self) -> str:
        return {"off": "not asked (free text)", "unchecked": "asked, not yet checked",
                "honoured": "asked and honoured by the server",
                "ignored": "asked, ignored by the server: free-text parsing"}[self.schema]

    def ask(self, system: str, user: str, candidates: list[str]) -> Reply:
        reply = self._complete(system, user, candidates, self.cfg.max_tokens)
        if self.schema == "unchecked":
            self._check_schema(reply, candidates)
        if reply.truncated and self.constrained:  # JSON cut off (e.g. padded with whitespace)
            self.truncation_retries += 1
            reply = self._complete(system, user, candidates,
                                   self.cfg.max_tokens * self.cfg.truncated_retry_factor)
            if self.schema == "unchecked":
                self._check_schema(reply, candidates)
        return reply

    def _check_schema(self, reply: Reply, candidates: list[str]) -> None:
        """The first reply to a schema request shows whether the server honours it."""
        if reply.truncated:
            return  # cut off at the limit (JSON, or llama.cpp's ```json fence): a whole one decides
        if _schema_plan(reply.text) in candidates:
            self.schema = "honoured"
            return
        shown = reply.text.strip().replace("\n", " ")[:80]
        if self.cfg.unconstrained == "stop":
            raise UserError(
                f"the LLM server at {self.cfg.url} ignores --llm_constrain's JSON schema (it "
                f"replied {shown!r}, not {{\"plan\": <a candidate>}}; FastChat does this): drop "
                "--llm_constrain, or add --llm_unconstrained free_text to go on parsing free text")
        self.schema = "ignored"
        print(f"note: the LLM server at {self.cfg.url} ignores --llm_constrain's JSON schema "
              f"(it replied {shown!r}); going on with free-text parsing "
              "(--llm_unconstrained free_text)", file=sys.stderr, flush=True)

    def _complete(self, system: str, user: str, candidates: list[str], max_tokens: int) -> Reply:
        kwargs = {}
        if self.constrained:  # llama.cpp's server honours a JSON schema in response_format
            schema = {"type": "object", "required": ["plan"],
                      "properties": {"plan": {"type": "string", "enum": candidates}}}
            kwargs["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": "plan", "schema": schema}}
        spent, tries, wait = 0.0, 0, self.cfg.backoff  # spent: the tries' time and the waits
        while True:
            tries += 1
            t0 = time.monotonic()
            try:
                return self._try(system, user, max_tokens, kwargs)
            except _Retry as exc:
                spent += time.monotonic() - t0
                if spent + wait > self.cfg.retry_seconds:
                    raise self._gave_up(exc, tries, spent) from None
                self.sleep(wait)
                spent += wait
                wait = min(wait * 2, self.cfg.max_backoff)

    def _try(self, system: str, user: str, max_tokens: int, kwargs: dict) -> Reply:
        import openai

        try:
            reply = self.client.chat.completions.create(
                model=self.cfg.model, temperature=self.cfg.temperature, max_tokens=max_tokens,
                messages=[{"role": "system", "content": system},
                          {"role": "user", "content": user}], **kwargs)
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise _Retry(f"{type(exc).__name__}: {_first_line(exc)}", answered=False) from None
        except (openai.InternalServerError, openai.RateLimitError) as exc:
            raise _Retry(f"HTTP {exc.status_code}: {_first_line(exc)}", answered=True) from None
        except openai.APIStatusError as exc:  # 4xx: is the model there at all?
            self._refused(exc)
        # llama.cpp reports the GGUF path as the model: keep the file name
        self.model_name = self.model_name or (reply.model or "").rsplit("/", 1)[-1] or None
        if not reply.choices:
            raise _Retry("a reply with no choices", answered=True)
        choice = reply.choices[0]
        return Reply(choice.message.content or "", choice.finish_reason == "length")

    def _refused(self, exc) -> None:
        """A 4xx: the model is not served (FastChat: no worker, or another model), or the
        request itself was refused. Raises _Retry (a worker may come back) or LLMUnavailable."""
        served = self.served_models()
        if served == []:
            raise _Retry(f"HTTP {exc.status_code}, and the server lists no model",
                         answered=True) from None
        if served is not None and self.cfg.model not in served:
            raise LLMUnavailable(
                f"the LLM server at {self.cfg.url} serves {served}, not {self.cfg.model!r}: pass "
                "one of them as --llm_model") from None
        raise LLMUnavailable(
            f"the LLM server at {self.cfg.url} refused the request for model "
            f"{self.cfg.model!r} (HTTP {exc.status_code}: {_first_line(exc)}); check "
            "--llm_model and the server's log") from None

    def served_models(self) -> list[str] | None:
        """The model names the server lists (GET /models); None if it will not say."""
        try:
            return sorted(m.id for m in self.client.models.list())
        except Exception:  # any failure means "unknown", not an error of ours
            return None

    def _gave_up(self, last: _Retry, tries: int, spent: float) -> LLMUnavailable:
        where = f"{tries} tries over {spent:.0f} s; --llm_retry_seconds {self.cfg.retry_seconds:g}"
        if not last.answered:
            return LLMUnavailable(
                f"no LLM server answers at {self.cfg.url} ({last}; {where}): start one "
                "(FastChat: docs/fastchat.md; llama.cpp: python main.py serve) or check "
                "--llm_url; without --llm_url the shipped answers are used")
        return LLMUnavailable(
            f"the LLM server at {self.cfg.url} answers but cannot reply with model "
            f"{self.cfg.model!r} ({last}; {where}): its model worker may be gone or still "
            "loading (FastChat: restart fastchat.serve.model_worker and check the controller)")


def _schema_plan(text: str) -> str | None:
    """The plan of a reply of the form {"plan": "..."} (None for anything else)."""
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip())  # a fenced JSON block
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value.get("plan") if isinstance(value, dict) and isinstance(value.get("plan"),
                                                                       str) else None


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


_JOINED_BEFORE = re.compile(r"(?:,|\band|\bthen)\s*$")  # the text before a span goes on into it
_JOINED_AFTER = re.compile(r"^\s*(?:,|and\b|then\b)")   # the span goes on into the text after


def _single_candidate(whole: str, norm: dict[str, str]) -> str | bool | None:
    """The one candidate the text names, ignoring candidates that lie inside a longer named one
    ("go to <key>, pick up <key>" inside "go to <key>, pick up <key>, go to <door>, ...").
    None if it names none, or names it only as a piece of a longer plan of its own ("go to
    <key> and pick up <key>", "go to <key, pick up <key>, ..."); False if it names several
    (an echo of the offered list)."""
    spans = []
    for n, c in norm.items():
        start = whole.find(n) if n else -1
        while start >= 0:
            spans.append((start, start + len(n), c))
            start = whole.find(n, start + 1)
    outer = [(a, b, c) for a, b, c in spans
             if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) for a2, b2, _ in spans)]
    if len({c for _, _, c in outer}) > 1:
        return False
    alone = [c for a, b, c in outer
             if not _JOINED_BEFORE.search(whole[:a]) and not _JOINED_AFTER.match(whole[b:])]
    return alone[0] if alone else None


# words of our prompts: a reply holding them repeats the prompt instead of answering it
_ECHO_MARKS = ("observation:", "choose the next rational action", "no further explanation", '["')


def _could_go_on(whole: str, norm: dict[str, str]) -> bool:
    """The text (cut at the token limit) ends part-way into a candidate: a word or more of one,
    or a named candidate that a longer one extends."""
    for n in norm:
        for k in range(1, len(n)):
            part = n[:k]
            if whole.endswith(part) and (len(whole) == k or not whole[-k - 1].isalnum()):
                return True
    return False


def match_reply(reply: str, candidates: list[str], truncated: bool = False) -> str | None:
    """Map one LLM reply onto a candidate plan; None if it cannot be used.

    Tried in order: a JSON object {"plan": ...}; the reply's first line (prefixes like "Answer:"
    removed) equal to a candidate; the one candidate the reply names. Unusable: a reply that
    names no candidate exactly (no partial plans, no plans of our own making), one that names
    several or repeats the prompt, and one cut at the token limit (``truncated``) that could
    still have gone on to name another candidate.
    """
    text = reply.strip()
    plan = _schema_plan(text)
    if plan is not None:
        text = plan
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return None
    norm = {normalise_plan(c): c for c in candidates}
    whole = normalise_plan(" ".join(lines))
    first = _PREFIX.sub("", lines[0].strip().strip("*").strip())
    key = normalise_plan(re.sub(r"^\d+[.)]\s*", "", first))
    complete_first = not truncated or len(lines) > 1  # a cut single line may go on
    if key in norm and complete_first:
        return norm[key]
    if any(mark in whole for mark in _ECHO_MARKS):
        return None
    named = _single_candidate(whole, norm)
    if not named or (truncated and _could_go_on(whole, norm)):
        return None
    return named
