"""The benchmark reward model of bench/train-speed.ts in PyTorch, for measuring the true ratio on one host.

Same shapes and work per step: BERT encoder (post-LayerNorm, erf GELU), vocab 8000, hidden 128, 4 heads,
2 layers, FFN 512, 256 tokens, LoRA r8 alpha 8 on query/value with the base frozen (dropout 0.05), hidden and
attention dropout 0.1, mean pooling, scalar head sigma(w.z + b), loss mean softplus(r_l - r_w), Adam, 8 pairs
(16 sequences) per step on random full-length token ids.

Usage: python3 bench/torch_reference.py [--threads 2] [--steps 20] [--warmup 3] [--reps 3] [--device cpu] [--json]
Prints steps/s, sequences/s and peak RSS (median step of each run, median over runs), like train-speed.
"""

import argparse
import json
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, HIDDEN, HEADS, LAYERS, FFN, SEQ, PAIRS = 8000, 128, 4, 2, 512, 256, 8
LORA_R, LORA_ALPHA, LORA_DROPOUT = 8, 8, 0.05
DROPOUT = 0.1


class LoraLinear(nn.Module):
    """W x + b + (alpha / r) B A dropout(x), as peft; W and b frozen, B starts at zero."""

    def __init__(self, dim: int):
        super().__init__()
        self.base = nn.Linear(dim, dim)
        self.base.requires_grad_(False)
        self.lora_A = nn.Linear(dim, LORA_R, bias=False)
        self.lora_B = nn.Linear(LORA_R, dim, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.drop = nn.Dropout(LORA_DROPOUT)
        self.scale = LORA_ALPHA / LORA_R

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(self.drop(x))) * self.scale


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = LoraLinear(HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = LoraLinear(HIDDEN)
        self.out = nn.Linear(HIDDEN, HIDDEN)
        self.ln1 = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.inter = nn.Linear(HIDDEN, FFN)
        self.down = nn.Linear(FFN, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.drop = nn.Dropout(DROPOUT)
        for m in (self.key, self.out, self.ln1, self.inter, self.down, self.ln2):
            m.requires_grad_(False)

    def forward(self, x, mask_add):  # x [B, T, H], mask_add [B, 1, 1, T]
        B, T, H = x.shape
        hd = H // HEADS

        def split(t):
            return t.view(B, T, HEADS, hd).transpose(1, 2)  # [B, nh, T, hd]

        q = split(self.query(x) / math.sqrt(hd))
        k = split(self.key(x))
        v = split(self.value(x))
        probs = self.drop(torch.softmax(q @ k.transpose(-1, -2) + mask_add, dim=-1))
        ctx = (probs @ v).transpose(1, 2).reshape(B, T, H)
        a = self.ln1(self.drop(self.out(ctx)) + x)
        return self.ln2(self.drop(self.down(F.gelu(self.inter(a)))) + a)


class RewardModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.pos = nn.Embedding(SEQ, HIDDEN)
        self.token_type = nn.Embedding(2, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=1e-12)
        for m in (self.word, self.pos, self.token_type, self.ln):
            m.requires_grad_(False)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.head = nn.Linear(HIDDEN, 1)
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, ids, types, mask):  # [B, T] each
        T = ids.shape[1]
        x = self.drop(self.ln(self.word(ids) + self.token_type(types) + self.pos.weight[:T]))
        mask_add = ((1 - mask.float()) * -1e9)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, mask_add)
        m = mask.float().unsqueeze(-1)
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1)
        return torch.sigmoid(self.head(pooled)).squeeze(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dev = torch.device(args.device)
    per_run = []
    for _ in range(args.reps):
        model = RewardModel().to(dev).train()
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        B = 2 * PAIRS
        times = []
        for i in range(args.warmup + args.steps):
            ids = torch.randint(1, VOCAB, (B, SEQ), device=dev)
            types = (torch.arange(SEQ, device=dev) >= SEQ // 4).long().expand(B, SEQ)
            mask = torch.ones(B, SEQ, dtype=torch.long, device=dev)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            r = model(ids, types, mask)
            loss = F.softplus(r[PAIRS:] - r[:PAIRS]).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()
            if i >= args.warmup:
                times.append(time.perf_counter() - t0)
        per_run.append(statistics.median(times))
    sec = statistics.median(per_run)
    out = {
        "engine": f"pytorch {torch.__version__} {args.device}" + (f" {args.threads} threads" if dev.type == "cpu" else ""),
        "steps_per_s": round(1 / sec, 3),
        "seq_per_s": round(2 * PAIRS / sec, 1),
        "runs_s_per_step": [round(s, 4) for s in per_run],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(out) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
