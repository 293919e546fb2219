"""Trains prepared RewardLens run folders on a GPU machine that has PyTorch and no Node.js, and writes what the
llmeval2 experiment and the engine-speed table need into one results.json (bench/llmeval2-experiment.md).

    python3 bench/device/train-plans.py PLANS [--base DIR] --out DIR [--max-minutes M] [--device cuda]

PLANS is a folder (or a .tgz of one) holding run folders prepared by
`node dist/bench/llmeval2-experiment.js … --plans-only` (under plans/<method>) and
`node dist/bench/engine-speed.js --plans-only DIR` (speed-<mode> and speed.json). The speed runs train first,
one at a time, on an idle GPU; the method runs then train side by side (a small base leaves the GPU mostly
idle with one), each with --max-minutes. --base is the pre-trained base folder on this machine (a float16
copy will do: the trainer widens it to float32). Nothing is downloaded."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_folders(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob("plan.json") if len(p.relative_to(root).parts) <= 4)


def start(run: Path, args, log) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO / "trainer") + os.pathsep + os.environ.get("PYTHONPATH", ""), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "rewardlens_trainer", str(run), "--device", args.device]
    if args.base:
        cmd += ["--base", args.base]
    if args.max_minutes:
        cmd += ["--max-minutes", str(args.max_minutes)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=log, text=True)


def finish(proc: subprocess.Popen) -> dict:
    """The trainer's done summary or its error, from its protocol messages on stdout."""
    outcome: dict = {"error": "no message from the trainer"}
    for line in proc.stdout:
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if m.get("type") == "done":
            outcome = m["summary"]
        elif m.get("type") == "error":
            outcome = {"error": m.get("message")}
    proc.wait()
    outcome["exit"] = proc.returncode
    return outcome


def components(run: Path) -> dict:
    """Per component: optimiser steps taken and the best validation accuracy, from metrics.jsonl."""
    out: dict = {}
    metrics = run / "metrics.jsonl"
    if not metrics.exists():
        return out
    for line in metrics.read_text().splitlines():
        m = json.loads(line)
        key = m.get("component") or f"{m['phase']}{'/' + m['expert'] if m.get('expert') else ''}"
        c = out.setdefault(key, {"steps": 0, "bestValAcc": None})
        c["steps"] = max(c["steps"], m["step"])
        if m.get("valAcc") is not None and (c["bestValAcc"] is None or m["valAcc"] > c["bestValAcc"]):
            c["bestValAcc"], c["bestStep"] = m["valAcc"], m["step"]
    return out


def speed(run: Path, spec: dict) -> dict:
    """Steps per second between the evaluations at spec['from'] and spec['to'], as bench/engine-speed.ts times them."""
    lines = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    at = {m["step"]: m for m in lines if m["phase"] == spec["phase"]}
    a, b = at.get(spec["from"]), at.get(spec["to"])
    if not a or not b:
        return {"error": f"no evaluations at steps {spec['from']} and {spec['to']}"}
    seconds = (datetime.fromisoformat(b["ts"].replace("Z", "+00:00")) - datetime.fromisoformat(a["ts"].replace("Z", "+00:00"))).total_seconds()
    return {"mode": spec["mode"], "stepsPerSecond": (spec["to"] - spec["from"]) / seconds, "window": {"steps": spec["to"] - spec["from"], "seconds": seconds}}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("plans")
    p.add_argument("--base", default=None)
    p.add_argument("--out", required=True)
    p.add_argument("--max-minutes", type=float, default=0)
    p.add_argument("--device", default="cuda")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    root = Path(args.plans)
    if root.suffix in (".tgz", ".gz"):
        target = Path("/tmp/rewardlens-plans")
        with tarfile.open(root) as t:
            t.extractall(target, filter="data")
        root = target
    import torch

    results: dict = {"device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu", "torch": torch.__version__, "speed": {}, "methods": {}}
    log = open(out / "trainer.log", "w")
    spec_file = next(root.rglob("speed.json"), None)
    specs = json.loads(spec_file.read_text()) if spec_file else {}
    runs = run_folders(root)
    for run in [r for r in runs if r.name in specs]:
        started = time.time()
        summary = finish(start(run, argparse.Namespace(**{**vars(args), "max_minutes": 0}), log))
        results["speed"][run.name] = {**speed(run, specs[run.name]), "device": summary.get("device"), "seconds": time.time() - started}
        print(f"{run.name}: {results['speed'][run.name]}", flush=True)
    methods = [r for r in runs if r.name not in specs]
    started = time.time()
    procs = {r.name: start(r, args, log) for r in methods}
    for name, proc in procs.items():
        summary = finish(proc)
        run = next(r for r in methods if r.name == name)
        results["methods"][name] = {
            "evaluation": summary.get("evaluation"),
            "minutes": summary.get("seconds", time.time() - started) / 60,
            "truncated": summary.get("truncated"),
            "device": summary.get("device"),
            "components": components(run),
            **({"error": summary["error"]} if "error" in summary else {}),
        }
        ev = summary.get("evaluation") or {}
        print(f"{name}: {ev.get('overall')} on {ev.get('pairs')} pairs in {results['methods'][name]['minutes']:.1f} min {summary.get('error', '')}", flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
