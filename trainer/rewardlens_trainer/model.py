"""The networks of a DMoERM run in PyTorch, with the TypeScript engine's names and semantics
(src/core/model): a BERT-family encoder (Hugging Face BertModel), mean-pooled over the real tokens; LoRA
experts on its attention projections (peft); the scalar value head σ(z·w + b); Phase 3's aggregation MLP
σ(w1·PReLU(w0·z + b0) + b1); the router's linear classifier."""

from __future__ import annotations

import torch
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict
from torch import nn
from transformers import BertConfig, BertModel

PEFT_PREFIX = "base_model.model."


def bert_config(c: dict) -> BertConfig:
    """The plan's EncoderConfig (src/core/model/config.ts) as Hugging Face's BertConfig."""
    return BertConfig(
        vocab_size=c["vocabSize"],
        hidden_size=c["hidden"],
        num_hidden_layers=c["layers"],
        num_attention_heads=c["heads"],
        intermediate_size=c["intermediate"],
        max_position_embeddings=c["maxPositions"],
        type_vocab_size=c["typeVocabSize"],
        layer_norm_eps=c["layerNormEps"],
        hidden_act={"gelu": "gelu", "gelu_new": "gelu_new", "relu": "relu"}[c["hiddenAct"]],
        hidden_dropout_prob=c["hiddenDropout"],
        attention_probs_dropout_prob=c["attentionDropout"],
        pad_token_id=0,
    )


class Encoder(nn.Module):
    """BertModel without its pooler (unless the weights carry one), mean-pooled over the attention mask."""

    def __init__(self, config: dict, weights: dict[str, torch.Tensor]):
        super().__init__()
        self.names = list(weights.keys())
        with_pooler = "pooler.dense.weight" in weights
        self.bert = BertModel(bert_config(config), add_pooling_layer=with_pooler)
        missing, unexpected = self.bert.load_state_dict(weights, strict=False)
        missing = [m for m in missing if not m.endswith("position_ids") and not m.endswith("token_type_ids")]
        if missing or unexpected:
            raise ValueError(f"encoder weights do not fit the configuration: missing {missing[:3]}, unexpected {unexpected[:3]}")

    def forward(self, ids: torch.Tensor, types: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.bert(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        # An empty row pools to zeros, not NaN (as the TypeScript encoder).
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1)

    def state(self) -> dict[str, torch.Tensor]:
        """The encoder's weights under the names the run's checkpoints use."""
        sd = self.bert.state_dict()
        return {n: sd[n] for n in self.names}


def with_lora(encoder: Encoder, lora: dict, weights: dict[str, torch.Tensor] | None) -> nn.Module:
    """The encoder under one peft LoRA adapter (its base frozen), started from `weights` (peft names without
    `base_model.model.`)."""
    config = LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"], target_modules=list(lora["targets"]), bias="none")
    model = get_peft_model(encoder.bert, config)
    if weights is not None:
        set_lora(model, weights)
    return model


def set_lora(model: nn.Module, weights: dict[str, torch.Tensor]) -> None:
    """Loads LoRA weights saved under peft's names without `base_model.model.` into a peft model."""
    result = set_peft_model_state_dict(model, {PEFT_PREFIX + k: v for k, v in weights.items()})
    bad = [k for k in getattr(result, "unexpected_keys", []) if "lora" in k]
    if bad:
        raise ValueError(f"LoRA weights do not fit: unexpected {bad[:3]}")


def lora_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k[len(PEFT_PREFIX):] if k.startswith(PEFT_PREFIX) else k: v for k, v in get_peft_model_state_dict(model).items()}


class LoraEncoder(nn.Module):
    """An Encoder whose BertModel runs under a peft adapter: same forward, only the adapter trains."""

    def __init__(self, encoder: Encoder, lora: dict, weights: dict[str, torch.Tensor] | None):
        super().__init__()
        self.encoder = encoder
        self.peft = with_lora(encoder, lora, weights)
        for name, p in self.peft.named_parameters():
            p.requires_grad = "lora_" in name

    def forward(self, ids, types, mask):
        hidden = self.peft(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1)

    def lora_state(self) -> dict[str, torch.Tensor]:
        return lora_state(self.peft)


class MlpHead(nn.Module):
    """Phase 3: σ(w1·PReLU(w0·z + b0) + b1), one PReLU slope per hidden unit."""

    def __init__(self, weights: dict[str, torch.Tensor]):
        super().__init__()
        self.p = nn.ParameterDict({k: nn.Parameter(weights[k].clone().float()) for k in ("w0", "b0", "prelu", "w1", "b1")})

    def forward(self, z):
        h = z @ self.p["w0"].t() + self.p["b0"]
        h = torch.where(h >= 0, h, h * self.p["prelu"])
        return torch.sigmoid(h @ self.p["w1"].t() + self.p["b1"]).reshape(-1)

    def state(self):
        return {k: v.data for k, v in self.p.items()}


class Classifier(nn.Module):
    """The router: logits = z·Wᵀ + b over task categories."""

    def __init__(self, weights: dict[str, torch.Tensor]):
        super().__init__()
        self.weight = nn.Parameter(weights["weight"].clone().float())
        self.bias = nn.Parameter(weights["bias"].clone().float())

    def forward(self, z):
        return z @ self.weight.t() + self.bias

    def state(self):
        return {"weight": self.weight.data, "bias": self.bias.data}


class ScalarHead(Classifier):
    """The paper's value head: σ(z·wᵀ + b), weight [1, in], bias [1]."""

    def forward(self, z):
        return torch.sigmoid(super().forward(z.float())).reshape(-1)


class Standardizer:
    """Per-dimension standardisation of cached embeddings, folded into the first linear layer after training
    (src/core/training/tasks.ts Standardizer): sums in float64, a floor on the variance."""

    def __init__(self, rows: torch.Tensor):
        x = rows.double()
        n = x.shape[0]
        mean = x.sum(0) / n
        var = (x * x).sum(0) / n - mean * mean
        self.mean = mean.float()
        self.scale = (1 / torch.sqrt(torch.clamp(var, min=1e-12))).float()

    def apply(self, rows: torch.Tensor) -> torch.Tensor:
        return (rows - self.mean) * self.scale

    def fold_into(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """y = W·x̂ + b with x̂ = (x − mean)·scale: W ← W·diag(scale), b ← b − W_new·mean. W is [out, in]."""
        with torch.no_grad():
            w = weight.data.cpu() * self.scale
            weight.data.copy_(w)
            bias.data.copy_(bias.data.cpu() - w @ self.mean)
