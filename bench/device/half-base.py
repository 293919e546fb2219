"""A float16 copy of a pre-trained base folder (weights halved, config and tokenizer as they are), small enough to
travel to a GPU machine with the run folders; the trainer reads it with `--base DIR` and widens it to float32.
With --vocab RUN/vocab.json (repeatable) the embedding table keeps only the rows those runs use, and the copy
lists them in compact-vocab.json, which the trainer reads to find each run's rows.

    python3 bench/device/half-base.py SRC DST [--vocab RUN/vocab.json …]"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


EMBEDDINGS = ("embeddings.word_embeddings.weight", "bert.embeddings.word_embeddings.weight", "embed_tokens.weight", "model.embed_tokens.weight")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--vocab", action="append", default=[], help="a run's vocab.json; repeatable: the rows of all of them are kept")
    args = p.parse_args()
    src, dst = Path(args.src), Path(args.dst)
    keep = sorted({t for v in args.vocab for t in json.loads(Path(v).read_text())["keep"]}) if args.vocab else None
    if dst.resolve() == src.resolve():
        print("half-base.py: DST must not be SRC", file=sys.stderr)
        return 2
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.suffix == ".safetensors":
            tensors = {k: (v.half() if v.is_floating_point() else v) for k, v in load_file(str(f)).items()}
            for name in EMBEDDINGS:
                if keep is not None and name in tensors:
                    tensors[name] = tensors[name].index_select(0, torch.tensor(keep)).contiguous()
            save_file(tensors, str(dst / f.name), metadata={"format": "pt"})
        elif f.is_file() and f.suffix in (".json", ".txt", ".md"):
            shutil.copyfile(f, dst / f.name)
    if keep is not None:
        (dst / "compact-vocab.json").write_text(json.dumps({"keep": keep}))
    print(f"{dst}: {sum(p.stat().st_size for p in dst.iterdir()) / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
