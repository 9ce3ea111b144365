"""A GGUF (a shipped one or any file) as a Hugging Face model folder that FastChat's model_worker
loads; prints the FastChat commands that serve it (docs/fastchat.md).

    python -m serving.gguf_to_hf --model smollm2 --out hf/smollm2
    python -m serving.gguf_to_hf --gguf my.gguf --out hf/my --conv_template qwen-7b-chat

transformers 4.x (requirements-fastchat.txt) de-quantizes the weights to float32. Its GGUF
tokenizer import is then put right from the GGUF's own metadata: 4.57 gives a llama-type
tokenizer the bos token as eos (SmolLM2 would get eos <|im_start|> and never stop at <|im_end|>)
and a bos it must not add; it imports gemma's vocabulary as a Unigram model although the scores
are BPE merge ranks ("hello" -> "hel" "lo"), so gemma's is rebuilt as BPE, as llama.cpp reads
it. The GGUF's chat template (for a base model, serving/templates/completion.jinja) is kept in
tokenizer_config.json; FastChat itself formats prompts with its --conv-template.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from serving.models import PACKAGED, resolve_model
from utils.errors import UserError, os_reason

# FastChat's conversation template for a chat template's markers (FastChat picks one from the
# model path otherwise, and for a path it does not know prepends a one-shot example conversation).
# FastChat stops at the tokenizer's eos, so it must be the end-of-turn token (<|im_end|>).
CONV_TEMPLATES = [("<|im_start|>", "qwen-7b-chat"),  # ChatML (SmolLM2, Qwen)
                  ("[INST]", "llama-2"), ("ASSISTANT:", "vicuna_v1.1")]
BASE_CONV_TEMPLATE = "zero_shot"  # no chat template: "### Human: ... ### Assistant:" plain text
WORKER_NAME = "meta_controller"   # the original README's worker name, our default --llm_model
CONTROL, USER_DEFINED, BYTE = 3, 4, 6  # GGUF token types


def gguf_metadata(path: Path) -> dict:
    """The tokenizer's special-token fields, its model type and the chat template."""
    from gguf import GGUFReader

    fields = GGUFReader(path).fields
    def get(key, default=None):
        return fields[key].contents() if key in fields else default
    def array(key):
        return [fields[key].parts[i] for i in fields[key].data] if key in fields else []
    tokens = [bytes(p).decode(errors="replace") for p in array("tokenizer.ggml.tokens")]
    def token(key):
        i = get(f"tokenizer.ggml.{key}_token_id")
        return None if i is None else tokens[i]
    return {"arch": get("general.architecture"), "tokens": tokens,
            "types": [int(p[0]) for p in array("tokenizer.ggml.token_type")],
            "scores": [float(p[0]) for p in array("tokenizer.ggml.scores")],
            "bos": token("bos"), "eos": token("eos"), "pad": token("padding"),
            "unk": token("unknown"), "add_bos": bool(get("tokenizer.ggml.add_bos_token", False)),
            "chat_template": get("tokenizer.chat_template")}


def conv_template_for(chat_template: str | None) -> str | None:
    if not chat_template:
        return BASE_CONV_TEMPLATE
    return next((name for marker, name in CONV_TEMPLATES if marker in chat_template), None)


def _spm_as_bpe(tokenizer, meta: dict) -> None:
    """gemma: BPE over the GGUF's own pieces with merges ranked by their scores, its
    user-defined pieces (runs of spaces, newlines) and control tokens matched whole first, as
    llama.cpp reads them (transformers 4.57 builds a Unigram model: "hello" -> "hel" "lo")."""
    from tokenizers import AddedToken
    from tokenizers.models import BPE
    from transformers.convert_slow_tokenizer import generate_merges

    tokens, types = meta["tokens"], meta["types"]
    vocab: dict[str, int] = {}
    for i, piece in enumerate(tokens):
        vocab.setdefault(piece, i)
    merges = generate_merges(vocab, list(zip(tokens, meta["scores"], strict=True)))
    tokenizer.backend_tokenizer.model = BPE(vocab, merges, unk_token=meta["unk"], fuse_unk=True,
                                            byte_fallback=BYTE in types)
    for kind, special in ((USER_DEFINED, False), (CONTROL, True)):
        pieces = [t for t, k in zip(tokens, types, strict=True) if k == kind]
        tokenizer.add_tokens([AddedToken(t, normalized=False, special=special) for t in pieces],
                             special_tokens=special)


def convert(gguf: Path, out: Path, chat_template_file: str | None = None) -> dict:
    """Write the folder; returns the GGUF's metadata as used."""
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if int(transformers.__version__.split(".")[0]) >= 5:
        raise UserError(f"transformers {transformers.__version__} cannot save a GGUF-loaded model "
                        "(and FastChat 0.2.36 fails with it): pip install -r "
                        "requirements-fastchat.txt")
    try:
        meta = gguf_metadata(gguf)
    except (ValueError, KeyError, IndexError) as exc:
        raise UserError(f"{gguf} is not a GGUF model file ({type(exc).__name__}: "
                        f"{str(exc)[:120]})") from None
    meta["conv_template"] = conv_template_for(meta["chat_template"])
    if not meta["chat_template"] and chat_template_file:
        meta["chat_template"] = Path(chat_template_file).read_text()
    try:
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except ValueError as exc:  # an architecture transformers cannot read from a GGUF
        raise UserError(f"transformers cannot load {gguf.name}: {str(exc)[:160]}") from None
    if str(meta["arch"]).startswith("gemma"):
        _spm_as_bpe(tok, meta)
    specials = {k: meta[k] for k in ("bos", "eos", "pad") if meta[k]}
    specials.setdefault("pad", meta["eos"])
    for key, value in specials.items():
        setattr(tok, f"{key}_token", value)
    tok.add_bos_token = meta["add_bos"]  # updates the post-processor of a llama/gemma tokenizer
    tok.chat_template = meta["chat_template"]
    tok.clean_up_tokenization_spaces = False  # decode as llama.cpp does (" ," stays " ,")
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    for cfg in (model.config, model.generation_config):
        cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id = (
            tok.convert_tokens_to_ids(specials.get(k)) if specials.get(k) else None
            for k in ("bos", "eos", "pad"))
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    # tokenizer.json only (4.57 would copy the GGUF as tokenizer.model), the chat template in
    # tokenizer_config.json
    tok.save_pretrained(out, legacy_format=False, save_jinja_files=False)
    return meta


def fastchat_commands(out: Path, conv_template: str | None) -> str:
    conv = f" --conv-template {conv_template}" if conv_template else " --conv-template NAME"
    return "\n".join([
        "python -m fastchat.serve.controller --host localhost --port 21001 &",
        f"python -m fastchat.serve.model_worker --model-name '{WORKER_NAME}' --model-path "
        f"{out.resolve()}{conv} --device cpu --host localhost --port 21002 "
        "--worker-address http://localhost:21002 --controller-address http://localhost:21001 &",
        "python -m fastchat.serve.openai_api_server --host localhost --port 8000 "
        "--controller-address http://localhost:21001 &",
        f"python main.py eval ... --eval_teacher --llm_url http://localhost:8000/v1 --llm_model "
        f"{WORKER_NAME}"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serving.gguf_to_hf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help=f"a shipped GGUF: {', '.join(PACKAGED)}")
    source.add_argument("--gguf", help="path to any GGUF file")
    parser.add_argument("--out", required=True, help="the folder to write (new or empty)")
    parser.add_argument("--conv_template", help="FastChat's --conv-template to print (default: "
                        "from the chat template; zero_shot for a base model)")
    args = parser.parse_args(argv)
    try:
        if args.model is not None and args.model.lower() not in PACKAGED:
            raise UserError(f"--model {args.model!r} is not a shipped model ({', '.join(PACKAGED)}"
                            "); give any GGUF file with --gguf PATH")
        if args.gguf is not None and not Path(args.gguf).expanduser().is_file():
            raise UserError(f"--gguf {args.gguf}: no such file")
        gguf, template_file = resolve_model(args.model or str(Path(args.gguf).expanduser()))
        out = Path(args.out).expanduser()
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise UserError(f"--out {out} exists and is not an empty folder: choose a new one")
        t0 = time.perf_counter()
        meta = convert(gguf, out, template_file)
    except ModuleNotFoundError as exc:
        print(f"error: {exc.name} is missing: pip install -r requirements-fastchat.txt",
              file=sys.stderr)
        return 2
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the disk refused the folder
        print(f"error: cannot write {out}: {os_reason(exc)}", file=sys.stderr)
        return 2
    conv = args.conv_template or meta["conv_template"]
    print(f"wrote {out} from {gguf.name} in {time.perf_counter() - t0:.0f} s (eos {meta['eos']}, "
          f"bos {meta['bos']} {'added' if meta['add_bos'] else 'not added'}; FastChat "
          f"--conv-template {conv or '? (pick the one matching the chat template)'})")
    print("serve it with FastChat (pip install -r requirements-fastchat.txt; docs/fastchat.md):")
    print(fastchat_commands(out, conv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
