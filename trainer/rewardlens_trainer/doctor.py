"""`python -m rewardlens_trainer.doctor`: what this Python offers the trainer, as one JSON object on stdout
(`rewardlens doctor` prints it; the editor uses it to decide whether PyTorch training is set up)."""

from __future__ import annotations

import json
import platform
import sys

REQUIRED = ("torch", "transformers", "peft", "safetensors")


def report() -> dict:
    out: dict = {"python": sys.executable, "pythonVersion": platform.python_version(), "missing": [], "errors": {}}
    for name in REQUIRED:
        try:
            out[name] = __import__(name).__version__
        except Exception as e:  # noqa: BLE001 — an import that fails for any reason means the package is not usable
            out["missing"].append(name)
            out["errors"][name] = f"{type(e).__name__}: {e}"
    if "torch" not in out["missing"]:
        import torch

        out["threads"] = torch.get_num_threads()
        out["cuda"] = torch.version.cuda
        out["cudaAvailable"] = torch.cuda.is_available()
        out["devices"] = []
        for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0):
            p = torch.cuda.get_device_properties(i)
            major, minor = torch.cuda.get_device_capability(i)
            out["devices"].append({"index": i, "name": p.name, "memoryGiB": round(p.total_memory / 2**30, 1), "capability": f"{major}.{minor}", "bf16": major >= 8})
    out["ready"] = not out["missing"]
    return out


if __name__ == "__main__":
    print(json.dumps(report()))
