"""RewardLens's PyTorch trainer: `python -m rewardlens_trainer RUN` trains the training plan that
`rewardlens prepare` (or `rewardlens train --backend torch`) wrote into a run folder, and leaves the folder
as the TypeScript engine would: checkpoints, state, metrics, model.json, eval.json (docs/torch-trainer.md)."""

__version__ = "0.1.0"

# The training protocol's version (src/worker/train-protocol.ts): messages on stdout, one JSON object a line.
PROTOCOL_VERSION = 1
