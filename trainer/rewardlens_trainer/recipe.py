"""Trains a run folder's plan component by component, as src/core/training/recipe.ts and fit.ts do: the same
pairs, validation subsets, batches and initial weights (all in the plan), Adam with the TypeScript engine's
epsilon, the paper's early stopping, a checkpoint at each evaluation, resume after an interruption without
retraining finished components."""

from __future__ import annotations

import contextlib
import copy
import math
import signal
import time

import torch
import torch.nn.functional as F

from .events import Events
from .model import Classifier, Encoder, LoraEncoder, MlpHead, ScalarHead, Standardizer, set_lora
from .run_folder import RunFolder, load_checkpoint, now, save_checkpoint


class Cancelled(Exception):
    pass


class EarlyStopping:
    """src/core/training/early-stopping.ts, with the same JSON so either engine resumes the other's count."""

    def __init__(self, patience: int, state: dict | None = None):
        self.patience = patience
        self.min_delta = 0.0
        self.best = None
        self.count = 0
        self.since_best = 0
        if state:
            self.patience = state["patience"]
            self.min_delta = state.get("minDelta", 0)
            self.best = state.get("best")
            self.count = state["evaluations"]
            self.since_best = state["sinceBest"]

    def observe(self, step: int, value: float, loss: float | None):
        self.count += 1
        b = self.best
        usable = loss if loss is not None and math.isfinite(loss) else None
        if math.isnan(value):
            improved = False
        elif b is None:
            improved = True
        elif value > b["value"] + self.min_delta:
            improved = True
        else:
            improved = value >= b["value"] and usable is not None and b.get("loss") is not None and usable < b["loss"]
        if improved:
            self.best = {"step": step, "value": value} if usable is None else {"step": step, "value": value, "loss": usable}
            self.since_best = 0
        else:
            self.since_best += 1
        return improved, (not improved and self.since_best >= self.patience)

    def to_json(self):
        j = {"patience": self.patience, "minDelta": self.min_delta, "evaluations": self.count, "sinceBest": self.since_best}
        if self.best is not None:
            j["best"] = dict(self.best)
        return j


class Sequences:
    """The plan's token sequences, batched and padded on the right to the longest of a batch."""

    def __init__(self, t: dict[str, torch.Tensor], pad_id: int, device: torch.device):
        self.ids = t["seq/ids"].long()
        self.types = t["seq/types"].long()
        self.offsets = t["seq/offsets"].long().tolist()
        self.responses = t["record/responses"].long().tolist()
        self.router = t["record/router"].long().tolist()
        self.pad_id = pad_id
        self.device = device

    def response(self, record: int, response: int) -> int:
        return self.responses[record] + response

    def count(self, record: int) -> int:
        return self.router[record] - self.responses[record]

    def length(self, s: int) -> int:
        return self.offsets[s + 1] - self.offsets[s]

    def batch(self, seqs: list[int], router: bool = False):
        T = max(self.length(s) for s in seqs)
        B = len(seqs)
        ids = torch.full((B, T), self.pad_id, dtype=torch.long)
        types = torch.zeros((B, T), dtype=torch.long)
        mask = torch.zeros((B, T), dtype=torch.long)
        for b, s in enumerate(seqs):
            a, e = self.offsets[s], self.offsets[s + 1]
            ids[b, : e - a] = self.ids[a:e]
            if not router:
                types[b, : e - a] = self.types[a:e]
            mask[b, : e - a] = 1
        d = self.device
        return ids.to(d), types.to(d), mask.to(d)


def chunks(xs, n):
    return [xs[i : i + n] for i in range(0, len(xs), n)]


class Distributed:
    """The processes torchrun started (one per GPU, or gloo processes on the CPU), or just this one."""

    def __init__(self, rank: int, world: int, device: torch.device | None = None):
        self.rank = rank
        self.world = world
        # nccl reduces GPU tensors only.
        self.device = device or torch.device("cpu")

    @staticmethod
    def single() -> "Distributed":
        return Distributed(0, 1)

    @staticmethod
    def from_env(device: torch.device) -> "Distributed":
        import os

        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world == 1:
            return Distributed.single()
        import torch.distributed as dist

        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        return Distributed(dist.get_rank(), world, device)

    def share(self, batch: list[int]) -> list[int]:
        n = -(-len(batch) // self.world)
        return batch[self.rank * n : (self.rank + 1) * n]

    def reduce_step(self, params, loss: float, correct: float) -> tuple[float, float]:
        """Sums the gradients (each process's share is already weighted) and the step's totals over processes."""
        if self.world == 1:
            return loss, correct
        import torch.distributed as dist

        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            dist.all_reduce(p.grad)
        t = torch.tensor([loss, correct], dtype=torch.float64, device=params[0].device)
        dist.all_reduce(t)
        return t[0].item(), t[1].item()

    def any(self, flag: bool) -> bool:
        if self.world == 1:
            return flag
        import torch.distributed as dist

        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(t)
        return t.item() > 0

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()

    def close(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.destroy_process_group()


class Trainer:
    def __init__(self, run: RunFolder, events: Events, device: torch.device, micro_batch: int | None, deadline: float | None, dist: "Distributed | None" = None):
        self.run = run
        self.dist = dist or Distributed.single()
        self.plan = run.plan
        self.events = events
        self.device = device
        self.hp = self.plan["hyperParams"]
        self.micro_batch = micro_batch or self.hp["batchPairs"]
        self.deadline = deadline
        self.cancelled = False
        self.truncated = False
        self.tables = run.tables()
        self.init = run.init_parts()
        self.seqs = Sequences(self.tables, self.plan["padId"], device)
        self.state = run.read_state()
        self.state.setdefault("completed", [])
        self.trained: dict[str, dict[str, dict[str, torch.Tensor]]] = {}
        self.outcomes: dict[str, dict] = {}
        # bf16 autocast where the GPU has it; fp32 master weights either way.
        self.amp = device.type == "cuda" and torch.cuda.is_bf16_supported()

    # ---- the plan, component by component

    def train_all(self) -> dict:
        for c in self.plan["components"]:
            if c["name"] in self.state["completed"]:
                continue
            if self.cancelled_anywhere():
                raise Cancelled()
            {"tokens": self.train_tokens, "router": self.train_router, "phase3": self.train_phase3}[c["kind"]](c)
        model = copy.deepcopy(self.plan["model"])
        for inner in (model.get("inner") or {}).values():
            # An MLP that never took a step is its random initialisation: Phase 1's head scores better.
            if inner.get("phase3") and self.outcome(inner["phase3"])["steps"] == 0:
                del inner["phase3"]
        return model

    def parts_of(self, name: str) -> dict[str, dict[str, torch.Tensor]]:
        if name not in self.trained:
            self.trained[name] = load_checkpoint(self.run.checkpoint(name))[1]
        return self.trained[name]

    def outcome(self, name: str) -> dict:
        if name not in self.outcomes:
            self.outcomes[name] = load_checkpoint(self.run.checkpoint(name))[0]["outcome"]
        return self.outcomes[name]

    def encoder_from(self, source: str) -> Encoder:
        weights = self.init["base.encoder"] if source == "init" else self.parts_of(source)["encoder"]
        return Encoder(self.plan["encoder"], weights).to(self.device)

    def head_from(self, c: dict) -> ScalarHead:
        """A component's head starts as another's trained head (Phase 1, experts, members) or as the initial one."""
        weights = self.parts_of(c["headFrom"])["head"] if c.get("headFrom") else self.init["base.head"]
        return ScalarHead(weights).to(self.device)

    def pair_table(self, name: str, which: str) -> list[tuple[int, int, int]]:
        t = self.tables[f"{name}/{which}"]
        return [tuple(r) for r in t.reshape(-1, 3).tolist()]

    def schedule(self, name: str):
        flat = self.tables[f"{name}/batches"].tolist()
        sizes = self.tables[f"{name}/batch_sizes"].tolist()
        seeds = self.tables[f"{name}/seeds"].tolist()
        batches, at = [], 0
        for s in sizes:
            batches.append(flat[at : at + s])
            at += s
        return batches, seeds

    # ---- token-level components: base, Phase 1, Phase 2 experts, ensemble members

    def train_tokens(self, c: dict) -> None:
        name = c["name"]
        encoder = self.encoder_from(c["encoder"])
        head = self.head_from(c)
        if c.get("lora"):
            net_encoder = LoraEncoder(copy.deepcopy(encoder), self.plan["lora"], self.init[f"{name}.lora"]).to(self.device)
            trainable = [p for p in net_encoder.parameters() if p.requires_grad] + list(head.parameters())
            state = lambda: {"lora": net_encoder.lora_state(), "head": head.state()}  # noqa: E731
            load = lambda parts: (set_lora(net_encoder.peft, parts["lora"]), head.load_state_dict(parts["head"]))  # noqa: E731
        else:
            net_encoder = encoder
            for p in encoder.parameters():
                p.requires_grad = bool(c.get("trainEncoder"))
            trainable = [p for p in encoder.parameters() if p.requires_grad] + list(head.parameters())
            state = lambda: {"encoder": encoder.state(), "head": head.state()}  # noqa: E731
            load = lambda parts: (encoder.load(parts["encoder"]), head.load_state_dict(parts["head"]))  # noqa: E731
        train = self.pair_table(name, "train")
        val = self.pair_table(name, "val")
        self.phase(c, f"{name}: {len(train)} training pairs, {c['valExamples']} validation pairs")

        def rewards(seqs: list[int], training: bool) -> torch.Tensor:
            ids, types, mask = self.seqs.batch(seqs)
            with self.autocast():
                z = net_encoder(ids, types, mask)
            return head(z.float())

        def step(batch: list[int]):
            pairs = [train[i] for i in batch]
            seqs = [self.seqs.response(r, w) for r, w, _ in pairs] + [self.seqs.response(r, l) for r, _, l in pairs]
            r = rewards(seqs, True)
            rw, rl = r[: len(pairs)], r[len(pairs) :]
            return F.softplus(rl - rw).mean(), (rw > rl).float().sum().item()

        def validate():
            keys = sorted({(r, w) for r, w, _ in val} | {(r, l) for r, _, l in val})
            scores = self.score_sequences([self.seqs.response(r, x) for r, x in keys], lambda s: rewards(s, False), [net_encoder, head])
            by = dict(zip(keys, scores))
            return pair_metrics(val, by)

        net_encoder.train()
        self.fit(c, trainable, step, validate, state, load)

    # ---- the router

    def train_router(self, c: dict) -> None:
        categories = c["categories"]
        record_category = self.tables["record/category"].tolist()
        labels = [categories.index(self.plan["categories"][k]) if self.plan["categories"][k] in categories else -1 for k in record_category]
        train = self.tables["router/train"].tolist()
        val = self.tables["router/val"].tolist()
        self.phase(c, f"router over {len(categories)} categories: embedding the user turns")
        base = self.encoder_from("base")
        raw = self.embed_all([self.seqs.router[p] for p in range(self.plan["records"])], base, router=True)
        del base
        std = Standardizer(raw[train])
        features = std.apply(raw).to(self.device)
        classifier = Classifier(self.init["router.classifier"]).to(self.device)
        target = torch.tensor(labels, device=self.device)

        def step(batch):
            positions = [train[i] for i in batch]
            logits = classifier(features[positions])
            y = target[positions]
            return F.cross_entropy(logits, y), (logits.argmax(1) == y).float().sum().item()

        def validate():
            if not val:
                return 0.0, 0.0
            with torch.no_grad():
                logits = classifier(features[val])
                y = target[val]
                return (logits.argmax(1) == y).float().mean().item(), F.cross_entropy(logits, y).item()

        self.fit(
            c, list(classifier.parameters()), step, validate,
            lambda: {"classifier": classifier.state()},
            lambda parts: classifier.load_state_dict(parts["classifier"]),
            finalize=lambda: std.fold_into(classifier.weight, classifier.bias),
        )

    # ---- Phase 3

    def train_phase3(self, c: dict) -> None:
        name = c["name"]
        records = self.tables[f"{name}/records"].tolist()
        self.phase(c, f"Phase 3 '{c['expert']}': caching {len(c['experts'])} experts' embeddings of {len(records)} records")
        keys = [(p, r) for p in records for r in range(self.seqs.count(p))]
        cache = self.expert_embeddings(c["phase1"], c["experts"], [self.seqs.response(p, r) for p, r in keys])
        std = Standardizer(cache)
        features = std.apply(cache).to(self.device)
        row = {k: i for i, k in enumerate(keys)}
        mlp = MlpHead(self.init[f"{name}.mlp"]).to(self.device)
        train = self.pair_table(name, "train")
        val = self.pair_table(name, "val")

        def rows(pairs, side):
            return features[[row[(p[0], p[side])] for p in pairs]]

        def step(batch):
            pairs = [train[i] for i in batch]
            rw, rl = mlp(rows(pairs, 1)), mlp(rows(pairs, 2))
            return F.softplus(rl - rw).mean(), (rw > rl).float().sum().item()

        def validate():
            if not val:
                return 0.0, 0.0
            with torch.no_grad():
                keys_v = sorted({(r, w) for r, w, _ in val} | {(r, l) for r, _, l in val})
                r = mlp(features[[row[k] for k in keys_v]]).tolist()
            return pair_metrics(val, dict(zip(keys_v, r)))

        self.fit(c, list(mlp.parameters()), step, validate, lambda: {"mlp": mlp.state()}, lambda parts: [mlp.p[k].data.copy_(v) for k, v in parts["mlp"].items()], finalize=lambda: std.fold_into(mlp.p["w0"], mlp.p["b0"]))

    def expert_embeddings(self, phase1: str, experts: list[str], seqs: list[int]) -> torch.Tensor:
        """z = ⊕ z_i: each expert's pooled embedding of each sequence, concatenated in the experts' order."""
        encoder = self.encoder_from(phase1)
        cols = []
        for e in experts:
            net = LoraEncoder(copy.deepcopy(encoder), self.plan["lora"], self.parts_of(e)["lora"]).to(self.device)
            cols.append(self.embed_all(seqs, net))
            del net
        return torch.cat(cols, 1)

    # ---- scoring without gradients

    def embed_all(self, seqs: list[int], encoder, router: bool = False) -> torch.Tensor:
        """Pooled embeddings in the given order, batched by length; float32 on the CPU."""
        encoder.eval()
        order = sorted(range(len(seqs)), key=lambda i: self.seqs.length(seqs[i]))
        out = [None] * len(seqs)
        with torch.no_grad():
            for group in chunks(order, self.hp["scoreBatch"]):
                ids, types, mask = self.seqs.batch([seqs[i] for i in group], router=router)
                with self.autocast():
                    z = encoder(ids, types, mask).float().cpu()
                for k, i in enumerate(group):
                    out[i] = z[k]
        return torch.stack(out) if out else torch.zeros((0, self.plan["encoder"]["hidden"]))

    def score_sequences(self, seqs: list[int], reward, modules) -> list[float]:
        for m in modules:
            m.eval()
        order = sorted(range(len(seqs)), key=lambda i: self.seqs.length(seqs[i]))
        out = [0.0] * len(seqs)
        with torch.no_grad():
            for group in chunks(order, self.hp["scoreBatch"]):
                r = reward([seqs[i] for i in group]).float().cpu().tolist()
                for k, i in enumerate(group):
                    out[i] = r[k]
        for m in modules:
            m.train()
        return out

    # ---- the schedule (fit.ts)

    def fit(self, c: dict, params, step_fn, validate, state, load, finalize=None) -> None:
        name, phase, expert = c["name"], c["phase"], c.get("expert")
        batches, seeds = self.schedule(name)
        max_steps = c["maxSteps"]
        partial = self.run.checkpoint(f"{name}.partial")
        resume = None
        current = self.state.get("current") or {}
        if current.get("component") == name and partial.exists():
            manifest, parts = load_checkpoint(partial)
            load({k: {n: t.to(self.device) for n, t in v.items()} for k, v in parts.items()})
            resume = manifest["resume"]
            self.log(f"{name}: resuming at step {resume['step']}")
        # Adam's ε as TensorFlow.js's (1e-7), so both engines take the same steps.
        optimizer = torch.optim.Adam(params, lr=c["lr"], eps=1e-7)
        stopping = EarlyStopping(self.hp["patience"], resume["stopping"] if resume else None)
        best = [p.detach().clone() for p in params]
        step = resume["step"] if resume else 0
        loss_sum = correct = seen = since = 0
        reason = "max-steps"
        deadline = self.component_deadline(name)

        def evaluate() -> bool:
            nonlocal best, loss_sum, correct, seen, since
            val_acc, val_loss = validate()
            train_acc = correct / seen if seen else 0
            loss = loss_sum / since if since else val_loss
            improved, stop = stopping.observe(step, val_acc, val_loss)
            if improved:
                best = [p.detach().clone() for p in params]
            line = {"ts": now(), "phase": phase, **({"expert": expert} if expert else {}), "step": step, "loss": loss, "trainAcc": train_acc, "valAcc": val_acc}
            if self.dist.rank == 0:
                self.run.append_metric(line)
            self.events.event({"type": "progress", "phase": phase, **({"expert": expert} if expert else {}), "step": step, "totalSteps": max_steps, "loss": loss, "trainAcc": train_acc, "valAcc": val_acc})
            loss_sum = correct = seen = since = 0
            return stop

        if resume is None:
            evaluate()
        while step < max_steps:
            if self.dist.any(deadline is not None and time.time() > deadline):
                reason = "deadline"
                break
            batch = batches[step]
            torch.manual_seed(seeds[step])
            optimizer.zero_grad(set_to_none=True)
            total_loss = 0.0
            total_correct = 0.0
            # Data parallel (torchrun): each process takes a contiguous share of the step's examples, as a single
            # process cuts micro-batches; the weighted shares' gradients summed over processes are the whole batch's.
            mine = self.dist.share(batch) if c["kind"] == "tokens" else batch if self.dist.rank == 0 else []
            for part in chunks(mine, max(1, self.micro_batch)):
                loss, right = step_fn(part)
                weighted = loss * (len(part) / len(batch))
                weighted.backward()
                total_loss += weighted.item()
                total_correct += right
            total_loss, total_correct = self.dist.reduce_step(params, total_loss, total_correct)
            if self.cancelled_anywhere():
                reason = "cancelled"
                break
            if not math.isfinite(total_loss):
                raise RuntimeError(f"{name}: the loss became {total_loss} at step {step + 1} (learning rate {c['lr']}); lower it with --set lr.{phase}=…")
            optimizer.step()
            loss_sum += total_loss
            correct += total_correct
            seen += len(batch)
            step += 1
            since += 1
            if step % self.hp["evalEvery"] == 0 or step == max_steps:
                stop = evaluate()
                if self.dist.rank == 0:
                    save_checkpoint(partial, state(), {"component": name, "phase": phase, **({"expert": expert} if expert else {}), "resume": {"step": step, "stopping": stopping.to_json()}})
                self.state = {**self.state, "current": {"component": name, "step": step, "checkpoint": str(partial)}}
                self.write_state()
                self.events.event({"type": "checkpoint", "phase": phase, **({"expert": expert} if expert else {}), "step": step, "path": str(partial)})
                if stop:
                    reason = "early-stopped"
                    break
        with torch.no_grad():
            for p, b in zip(params, best):
                p.copy_(b)
        b = stopping.best
        outcome = {"steps": step, "bestStep": b["step"] if b else 0, "bestValAcc": b["value"] if b else 0, "reason": reason}
        if reason == "cancelled":
            raise Cancelled()
        if reason == "deadline":
            self.truncated = True
        if finalize:
            finalize()
        parts = state()
        if self.dist.rank == 0:
            save_checkpoint(self.run.checkpoint(name), parts, {"component": name, "phase": phase, **({"expert": expert} if expert else {}), "outcome": outcome})
        self.trained[name] = {k: {n: t.detach().cpu() for n, t in v.items()} for k, v in parts.items()}
        self.outcomes[name] = outcome
        self.state = {**self.state, "completed": [*self.state["completed"], name]}
        self.state.pop("current", None)
        self.write_state()
        if self.dist.rank == 0:
            for f in (partial, partial.with_suffix(".json")):
                f.unlink(missing_ok=True)
        self.log(f"{name}: {reason} after {step} steps, best validation accuracy {outcome['bestValAcc'] * 100:.1f}% at step {outcome['bestStep']}")

    def cancelled_anywhere(self) -> bool:
        """A signal reaches each process on its own: all stop at the same step when any of them was asked to."""
        return self.dist.any(self.cancelled)

    def component_deadline(self, name: str):
        if self.deadline is None:
            return None
        comps = self.plan["components"]
        at = next(i for i, c in enumerate(comps) if c["name"] == name)
        remaining = [c for c in comps[at:] if c["name"] not in self.state["completed"]]
        total = sum(c["weight"] for c in remaining)
        share = comps[at]["weight"] / total if total > 0 else 1
        t = time.time()
        return t + max(0.0, self.deadline - t) * share

    # ---- messages

    def autocast(self):
        return torch.autocast("cuda", dtype=torch.bfloat16) if self.amp else contextlib.nullcontext()

    def write_state(self) -> None:
        if self.dist.rank == 0:
            self.run.write_state(self.state)
        # No process reads a checkpoint its rank-0 sibling is still writing.
        self.dist.barrier()

    def phase(self, c: dict, message: str) -> None:
        self.events.event({"type": "phase", "phase": c["phase"], **({"expert": c["expert"]} if c.get("expert") else {}), "message": message})
        if self.dist.rank == 0:
            self.run.log(message)

    def log(self, message: str, level: str = "info") -> None:
        self.events.event({"type": "log", "level": level, "message": message})
        if self.dist.rank == 0:
            self.run.log(message)


def pair_metrics(pairs, scores: dict) -> tuple[float, float]:
    """Accuracy (strictly higher winner) and mean −log σ(r_w − r_l) over validation pairs."""
    if not pairs:
        return 0.0, 0.0
    right = 0
    loss = 0.0
    for r, w, l in pairs:
        d = scores[(r, w)] - scores[(r, l)]
        right += d > 0
        loss += math.log1p(math.exp(-d))
    return right / len(pairs), loss / len(pairs)


def install_cancel(trainer: Trainer) -> None:
    """SIGTERM / SIGINT stop at the next step; the last checkpoint stays and the run resumes from it."""

    first = []

    def on_signal(signum, frame):
        # Ctrl-C in a terminal reaches this process and the CLI above it, which then sends SIGTERM: one stop.
        if trainer.cancelled and time.time() - first[0] > 2:
            raise SystemExit(130)
        if not trainer.cancelled:
            first.append(time.time())
        trainer.cancelled = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

