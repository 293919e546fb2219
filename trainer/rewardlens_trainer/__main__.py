"""`python -m rewardlens_trainer RUN [--device auto|cpu|cuda[:N]] [--threads N] [--micro-batch N] [--max-minutes M] [--base DIR]`

Trains the plan in RUN (written by `rewardlens prepare` or `rewardlens train --backend torch`), resuming what
an interrupted run left there. Messages on stdout, one JSON object a line (the training protocol); exit 0
when trained, 130 when stopped by SIGINT/SIGTERM (resumable), 2 for a run folder it cannot train, 1 otherwise."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

try:
    import torch

    from .events import Events
    from .run_folder import PlanError, RunFolder, RunLock, write_json
except ModuleNotFoundError as missing:
    # A Python without the trainer's requirements: one line (the parent names the module from it), not a traceback.
    print(f"rewardlens-trainer: {sys.executable}: No module named '{missing.name}' (pip install -r trainer/requirements.txt)", file=sys.stderr)
    sys.exit(2)


MAX_THREADS = 256


def device_of(name: str) -> torch.device:
    # Under torchrun each process takes the GPU of its local rank.
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if name == "auto":
        return torch.device(f"cuda:{local}" if torch.cuda.is_available() else "cpu")
    try:
        d = torch.device(name)
    except RuntimeError as e:
        raise PlanError(f"--device {name}: not a device (auto, cpu, cuda or cuda:N)") from e
    if d.type == "cuda" and d.index is None:
        d = torch.device(f"cuda:{local}")
    if d.type == "cuda" and not torch.cuda.is_available():
        raise PlanError(f"--device {name}: torch {torch.__version__} sees no CUDA device")
    return d


def describe(device: torch.device) -> str:
    if device.type != "cuda":
        return f"cpu · fp32 · {torch.get_num_threads()} threads"
    precision = "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return f"{device} · {precision} · {torch.cuda.get_device_name(device)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rewardlens_trainer", description="Train a RewardLens run folder's plan with PyTorch.")
    parser.add_argument("run", help="run folder holding plan.json (from `rewardlens prepare`)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda or cuda:N")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's choice)")
    parser.add_argument("--micro-batch", type=int, default=0, help="pairs per forward/backward pass (default: the whole batch); the update is the same")
    parser.add_argument("--max-minutes", type=float, default=0, help="wall-clock budget shared by the components")
    parser.add_argument("--base", default=None, help="a copy of the plan's pre-trained base folder, where the one it names is not (another machine)")
    args = parser.parse_args(argv)
    # Under torchrun only the first process speaks; the others train their share silently.
    events = Events(enabled=os.environ.get("RANK", "0") == "0")
    events.ready()
    started = time.time()
    lock = None
    try:
        if args.threads < 0 or args.micro_batch < 0 or args.max_minutes < 0:
            raise PlanError("--threads, --micro-batch and --max-minutes must not be negative")
        # OpenMP crashes (SIGSEGV) on absurd thread counts; the TypeScript side takes at most 256 too.
        if args.threads > MAX_THREADS:
            raise PlanError(f"--threads {args.threads}: at most {MAX_THREADS} (this machine has {os.cpu_count()} cores)")
        if args.threads:
            torch.set_num_threads(args.threads)
        run = RunFolder(args.run, args.base)
        # One process trains a folder; under torchrun the first process holds the lock for all.
        lock = RunLock(run.dir) if os.environ.get("RANK", "0") == "0" else None
        device = device_of(args.device)
        from .evaluate import evaluate_test
        from .recipe import Cancelled, Distributed, Trainer, install_cancel

        dist = Distributed.from_env(device)
        where = describe(device) + (f" × {dist.world} processes" if dist.world > 1 else "")
        events.event({"type": "backend", "backend": "torch", "tfBackend": where, "note": f"PyTorch {torch.__version__}"})
        trainer = Trainer(run, events, device, args.micro_batch or None, started + args.max_minutes * 60 if args.max_minutes else None, dist)
        if dist.rank == 0:
            run.log(f"backend torch ({where}), PyTorch {torch.__version__}")
        install_cancel(trainer)
        try:
            model = trainer.train_all()
        except Cancelled:
            message = "training was cancelled; the run folder keeps the last checkpoint and resumes from it"
            if dist.rank == 0:
                run.log(message)
            events.error(message, cancelled=True)
            return 130
        finally:
            dist.close()
        if dist.rank != 0:
            return 0
        write_json(run.dir / "model.json", model)
        evaluation = None
        if trainer.tables["test/positions"].numel() > 0:
            events.event({"type": "phase", "phase": "eval", "message": f"evaluating on {trainer.tables['test/positions'].numel()} held-out records"})
            evaluation, rewards = evaluate_test(trainer, model)
            write_json(run.dir / "eval.json", [evaluation])
            # The trainer's own rewards of the held-out records: what an export must reproduce.
            write_json(run.dir / "test-rewards.json", rewards)
            events.event({"type": "evaluation", "result": evaluation})
        run.write_state({**run.read_state(), "finished": True})
        summary = {"out": str(run.dir), "method": run.plan["method"], "backend": "torch", "device": where, "truncated": trainer.truncated, "seconds": time.time() - started}
        if evaluation:
            summary["evaluation"] = evaluation
        events.done(summary)
        return 0
    except PlanError as e:
        events.error(str(e))
        print(f"rewardlens-trainer: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 — reported to the parent, then exit 1
        events.error(f"{type(e).__name__}: {e}")
        traceback.print_exc()
        return 1
    finally:
        if lock is not None:
            lock.release()


if __name__ == "__main__":
    sys.exit(main())
