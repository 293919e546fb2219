"""Scoring a trained run the way its method prescribes (src/core/training/scorer.ts) and its agreement with
the held-out human pairs (src/core/training/evaluate.ts, paper Table 3)."""

from __future__ import annotations

import copy

import torch

from .model import Classifier, Encoder, LoraEncoder, MlpHead, ScalarHead

UNCATEGORISED = "uncategorised"


def score(trainer, model: dict, positions: list[int]) -> dict[int, list[float]]:
    """Reward of every response of the given records."""
    seqs = trainer.seqs

    def rewards_of(encoder, head, members: list[int]) -> dict[int, list[float]]:
        flat = [seqs.response(p, r) for p in members for r in range(seqs.count(p))]
        z = trainer.embed_all(flat, encoder)
        with torch.no_grad():
            r = head(z.to(trainer.device)).float().cpu().tolist()
        return collect(seqs, members, r)

    def net(component: str):
        parts = trainer.parts_of(component)
        return Encoder(model["encoder"], parts["encoder"]).to(trainer.device), ScalarHead(parts["head"]).to(trainer.device)

    base_encoder, base_head = net(model["base"])
    if model["method"] == "single" or (not model.get("ensemble") and not model.get("inner")):
        return rewards_of(base_encoder, base_head, positions)
    if model.get("ensemble"):
        e = model["ensemble"]
        per_member = []
        for member in e["members"]:
            parts = trainer.parts_of(member)
            enc = LoraEncoder(copy.deepcopy(base_encoder), model["lora"], parts["lora"]).to(trainer.device)
            per_member.append(rewards_of(enc, ScalarHead(parts["head"]).to(trainer.device), positions))
        return {p: aggregate([m[p] for m in per_member], e["aggregation"], e["lambda"]) for p in positions}

    routes = route(trainer, model, positions, base_encoder)
    by_category: dict[str, list[int]] = {}
    for p in positions:
        by_category.setdefault(routes.get(p, "all"), []).append(p)
    out = {}
    for category, members in by_category.items():
        inner = (model.get("inner") or {}).get(category)
        if not inner:
            out.update(rewards_of(base_encoder, base_head, members))
            continue
        enc, head = net(inner["phase1"])
        if not inner.get("phase3") or not inner["experts"]:
            out.update(rewards_of(enc, head, members))
            continue
        flat = [seqs.response(p, r) for p in members for r in range(seqs.count(p))]
        z = trainer.expert_embeddings(inner["phase1"], [e["component"] for e in inner["experts"]], flat)
        mlp = MlpHead(trainer.parts_of(inner["phase3"])["mlp"]).to(trainer.device)
        with torch.no_grad():
            r = mlp(z.to(trainer.device)).float().cpu().tolist()
        out.update(collect(seqs, members, r))
    return out


def route(trainer, model: dict, positions: list[int], base_encoder) -> dict[int, str]:
    router = model.get("router")
    if not router:
        return {}
    categories = router["categories"]
    if not router["component"]:
        return {p: categories[0] for p in positions}
    classifier = Classifier(trainer.parts_of(router["component"])["classifier"]).to(trainer.device)
    z = trainer.embed_all([trainer.seqs.router[p] for p in positions], base_encoder, router=True)
    with torch.no_grad():
        best = classifier(z.to(trainer.device)).argmax(1).tolist()
    return {p: categories[b] for p, b in zip(positions, best)}


def aggregate(rows: list[list[float]], how: str, lam: float) -> list[float]:
    t = torch.tensor(rows, dtype=torch.float64)  # [members, responses]
    if how == "wco":
        v = t.min(0).values
    elif how == "mean":
        v = t.mean(0)
    else:
        v = t.mean(0) - lam * ((t - t.mean(0)) ** 2).mean(0)
    return v.float().tolist()


def collect(seqs, positions: list[int], flat: list[float]) -> dict[int, list[float]]:
    out, at = {}, 0
    for p in positions:
        n = seqs.count(p)
        out[p] = flat[at : at + n]
        at += n
    return out


def agreement(method: str, records: list[tuple[str, list[tuple[int, int]]]], rewards: list[list[float]]) -> dict:
    """Share of non-tied human pairs whose winner gets a strictly higher reward, overall and per category."""
    tally: dict[str, list[int]] = {}
    agree = pairs = 0
    for (category, record_pairs), r in zip(records, rewards):
        t = tally.setdefault(category, [0, 0])
        for w, l in record_pairs:
            t[1] += 1
            pairs += 1
            if r[w] > r[l]:
                t[0] += 1
                agree += 1
    order = sorted(tally, key=lambda c: (c == UNCATEGORISED, c))
    return {
        "method": method,
        "overall": agree / pairs if pairs else None,
        "pairs": pairs,
        "byCategory": {c: {"accuracy": tally[c][0] / tally[c][1] if tally[c][1] else None, "pairs": tally[c][1]} for c in order},
    }


def evaluate_test(trainer, model: dict) -> tuple[dict, list[dict]] | None:
    """The held-out agreement, and each held-out record's rewards (`index`: its record number in the file)."""
    positions = trainer.tables["test/positions"].tolist()
    if not positions:
        return None
    pairs_by_record: dict[int, list[tuple[int, int]]] = {p: [] for p in positions}
    for r, w, l in trainer.tables["test/pairs"].reshape(-1, 3).tolist():
        pairs_by_record[r].append((w, l))
    scores = score(trainer, model, positions)
    names = trainer.plan["categories"]
    cats = trainer.tables["record/category"].tolist()
    records = [(names[cats[p]], pairs_by_record[p]) for p in positions]
    index = trainer.tables["record/index"].tolist()
    rewards = [{"index": index[p], "rewards": scores[p]} for p in positions]
    return agreement(model["method"], records, [scores[p] for p in positions]), rewards
