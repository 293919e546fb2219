"""The networks of a DMoERM run in PyTorch, with the TypeScript engine's names and semantics
(src/core/model): a BERT-family encoder (Hugging Face BertModel), mean-pooled over the real tokens, or a
decoder LM of the Qwen2/Llama family (Qwen2Model/LlamaModel) read at its last real token (the only one that
has seen the whole input; src/core/export/decoder-graph.ts computes the same); LoRA experts on the attention
projections (peft); the scalar value head σ(z·w + b); Phase 3's aggregation MLP
σ(w1·PReLU(w0·z + b0) + b1); the router's linear classifier."""

from __future__ import annotations

import torch
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict
from torch import nn
from transformers import BertConfig, BertModel, LlamaConfig, LlamaModel, Qwen2Config, Qwen2Model

PEFT_PREFIX = "base_model.model."
DECODER_MODULES = {"query": "q_proj", "key": "k_proj", "value": "v_proj"}


def _shape(c: dict) -> dict:
    """The fields both config types name alike."""
    return dict(
        vocab_size=c["vocabSize"],
        hidden_size=c["hidden"],
        num_hidden_layers=c["layers"],
        num_attention_heads=c["heads"],
        intermediate_size=c["intermediate"],
        max_position_embeddings=c["maxPositions"],
    )


def bert_config(c: dict) -> BertConfig:
    """The plan's EncoderConfig (src/core/model/config.ts) as Hugging Face's BertConfig."""
    return BertConfig(
        **_shape(c),
        type_vocab_size=c["typeVocabSize"],
        layer_norm_eps=c["layerNormEps"],
        hidden_act={"gelu": "gelu", "gelu_new": "gelu_new", "relu": "relu"}[c["hiddenAct"]],
        hidden_dropout_prob=c["hiddenDropout"],
        attention_probs_dropout_prob=c["attentionDropout"],
        pad_token_id=0,
    )


def decoder_config(c: dict):
    """The plan's DecoderConfig (src/core/model/config.ts) as Hugging Face's Qwen2Config or LlamaConfig."""
    common = dict(
        **_shape(c),
        num_key_value_heads=c["kvHeads"],
        head_dim=c["headDim"],
        rms_norm_eps=c["rmsNormEps"],
        rope_theta=c["ropeTheta"],
        hidden_act="silu",
        attention_dropout=0.0,
        tie_word_embeddings=False,
    )
    if c["architecture"] == "qwen2":
        return Qwen2Config(**common, use_sliding_window=False)
    return LlamaConfig(**common, attention_bias=c["attentionBias"], mlp_bias=False)


def is_decoder(config: dict) -> bool:
    return "architecture" in config


def base_model(config: dict, with_pooler: bool) -> nn.Module:
    if not is_decoder(config):
        return BertModel(bert_config(config), add_pooling_layer=with_pooler)
    return (Qwen2Model if config["architecture"] == "qwen2" else LlamaModel)(decoder_config(config))


def pool(hidden: torch.Tensor, mask: torch.Tensor, last_token: bool) -> torch.Tensor:
    """A decoder's last real token (rows padded on the right), or an encoder's mean over its real tokens."""
    if last_token:
        last = (mask.sum(1) - 1).clamp(min=0)
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    m = mask.unsqueeze(-1).to(hidden.dtype)
    # An empty row pools to zeros, not NaN (as the TypeScript encoder).
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1)


def run_body(body: nn.Module, decoder: bool, ids, types, mask) -> torch.Tensor:
    # A decoder has one token type; its positions are 0…T-1, as right padding needs.
    if decoder:
        return body(input_ids=ids, attention_mask=mask).last_hidden_state
    return body(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state


class Encoder(nn.Module):
    """The run's base: BertModel without its pooler (unless the weights carry one), mean-pooled over the
    attention mask; or a Qwen2/Llama decoder read at the last real token."""

    def __init__(self, config: dict, weights: dict[str, torch.Tensor]):
        super().__init__()
        self.names = list(weights.keys())
        self.decoder = is_decoder(config)
        self.body = base_model(config, "pooler.dense.weight" in weights)
        self.load(weights)

    def load(self, weights: dict[str, torch.Tensor]) -> None:
        missing, unexpected = self.body.load_state_dict(weights, strict=False)
        missing = [m for m in missing if not m.endswith("position_ids") and not m.endswith("token_type_ids")]
        if missing or unexpected:
            raise ValueError(f"encoder weights do not fit the configuration: missing {missing[:3]}, unexpected {unexpected[:3]}")

    def forward(self, ids: torch.Tensor, types: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return pool(run_body(self.body, self.decoder, ids, types, mask), mask, self.decoder)

    def state(self) -> dict[str, torch.Tensor]:
        """The encoder's weights under the names the run's checkpoints use."""
        sd = self.body.state_dict()
        return {n: sd[n] for n in self.names}


def with_lora(encoder: Encoder, lora: dict, weights: dict[str, torch.Tensor] | None) -> nn.Module:
    """The encoder under one peft LoRA adapter (its base frozen), started from `weights` (peft names without
    `base_model.model.`)."""
    # The plan names targets as BERT does (query, key, value); decoders call them q_proj, k_proj, v_proj.
    targets = [DECODER_MODULES[t] for t in lora["targets"]] if encoder.decoder else list(lora["targets"])
    config = LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"], target_modules=targets, bias="none")
    model = get_peft_model(encoder.body, config)
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
    """An Encoder whose body runs under a peft adapter: same forward, only the adapter trains."""

    def __init__(self, encoder: Encoder, lora: dict, weights: dict[str, torch.Tensor] | None):
        super().__init__()
        self.encoder = encoder
        self.peft = with_lora(encoder, lora, weights)
        for name, p in self.peft.named_parameters():
            p.requires_grad = "lora_" in name

    def forward(self, ids, types, mask):
        decoder = self.encoder.decoder
        return pool(run_body(self.peft, decoder, ids, types, mask), mask, decoder)

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
    (src/core/training/embedding-cache.ts Standardizer): sums in float64, a floor on the variance."""

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
