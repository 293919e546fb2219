import type * as TF from '@tensorflow/tfjs';
import { encoderOnly } from '../model/config';
import { Encoder } from '../model/encoder';
import { Classifier, MlpHead, ScalarHead } from '../model/heads';
import { LoraAdapter } from '../model/lora';
import { tf } from '../model/tf';
import { aggregateRows } from './aggregate';
import type { RunModel } from '../model/dmoerm';
import { PART, RewardNet, innerPath, phase3Input, scoringPath } from '../model/dmoerm';
import { loadParts } from './parts';
import { expertEmbeddings } from './embedding-cache';
import type { SequenceSource } from './tasks';
import { embedSequences } from './tasks';

/** What a trained run says about one record. */
export interface RecordScore {
  /** Reward per response, in (0, 1). */
  rewards: Float32Array;
  /** dmoerm: the router's probabilities per category and its top-1 choice. */
  route?: { category: string; probabilities: Float32Array };
}

/**
 * A trained run loaded from its checkpoints, scoring records the way its method prescribes: the router's
 * top-1 category picks one inner MoE (dmoerm), the single inner MoE (dmoerm-no-outer), the aggregated
 * ensemble (mean / wco / uwo) or the general RM (single).
 */
export class RunScorer {
  private constructor(
    readonly model: RunModel,
    private readonly checkpoint: (component: string) => string,
  ) {}

  static load(model: RunModel, checkpoint: (component: string) => string): RunScorer {
    return new RunScorer(model, checkpoint);
  }

  /** Scores records; loads each component once and releases it before the next to bound memory. */
  score(src: SequenceSource, positions: number[]): Map<number, RecordScore> {
    const m = this.model;
    const out = new Map<number, RecordScore>();
    const base = this.loadNet(m.base);
    try {
      const path = scoringPath(m);
      if (path.kind === 'base') {
        for (const [p, rewards] of this.rewardsOf(src, positions, base)) out.set(p, { rewards });
        return out;
      }
      if (path.kind === 'ensemble') {
        const { ensemble } = path;
        const perMember = ensemble.members.map((member) => {
          const net = this.loadExpert(base, member);
          try {
            return this.rewardsOf(src, positions, net);
          } finally {
            net.adapter?.dispose();
            net.head.dispose();
          }
        });
        for (const p of positions) {
          out.set(p, {
            rewards: aggregateRows(
              perMember.map((r) => r.get(p)!),
              ensemble.aggregation,
              ensemble.lambda,
            ),
          });
        }
        return out;
      }
      // dmoerm: the router's top-1 category per record; dmoerm-no-outer: 'all' for everything.
      const routes = path.kind === 'routed' ? this.route(src, positions, base, path.router) : new Map<number, RecordScore['route'] & object>();
      const byCategory = new Map<string, number[]>();
      for (const p of positions) {
        const c = routes.get(p)?.category ?? 'all';
        byCategory.set(c, [...(byCategory.get(c) ?? []), p]);
      }
      for (const [category, members] of byCategory) {
        const rewards = this.innerRewards(src, members, category, base);
        for (const p of members) out.set(p, { rewards: rewards.get(p)!, route: routes.get(p) });
      }
      return out;
    } finally {
      base.encoder.dispose();
      base.head.dispose();
    }
  }

  private route(
    src: SequenceSource,
    positions: number[],
    base: RewardNet,
    router: NonNullable<RunModel['router']>,
  ): Map<number, RecordScore['route'] & object> {
    const out = new Map<number, { category: string; probabilities: Float32Array }>();
    const categories = router.categories;
    if (!router.component) {
      for (const p of positions) out.set(p, { category: categories[0], probabilities: Float32Array.of(1) });
      return out;
    }
    const classifier = Classifier.create(base.encoder.config.hidden, categories.length, 0);
    try {
      loadParts(this.checkpoint(router.component), { [PART.classifier]: classifier });
      const seqs = positions.map((p) => ({ ids: src.data.records[p].router, typeIds: new Int32Array(src.data.records[p].router.length) }));
      const probs = embedSequences(src, seqs, (b) => tf.softmax<TF.Tensor2D>(classifier.logits(base.embed(b))));
      positions.forEach((p, i) => {
        let best = 0;
        for (let c = 1; c < categories.length; c++) if (probs[i][c] > probs[i][best]) best = c;
        out.set(p, { category: categories[best], probabilities: probs[i] });
      });
      return out;
    } finally {
      classifier.dispose();
    }
  }

  private innerRewards(src: SequenceSource, positions: number[], category: string, base: RewardNet): Map<number, Float32Array> {
    const path = innerPath(this.model, category);
    if (path.kind === 'base') return this.rewardsOf(src, positions, base);
    const { inner } = path;
    const phase1 = this.loadNet(inner.phase1);
    try {
      if (path.kind === 'phase1') return this.rewardsOf(src, positions, phase1);
      const { keys, z } = expertEmbeddings(src, phase1.encoder, positions, inner.experts.length, (k, embed) => {
        const adapter = LoraAdapter.create(phase1.encoder.config, this.model.lora, 0);
        try {
          loadParts(this.checkpoint(inner.experts[k].component), { [PART.lora]: adapter });
          embed(adapter);
        } finally {
          adapter.dispose();
        }
      });
      const width = phase3Input(phase1.encoder.config.hidden, inner.experts.length);
      const mlp = MlpHead.create(width, this.model.mlpHidden, 0);
      try {
        loadParts(this.checkpoint(path.phase3), { [PART.mlp]: mlp });
        const r = tf.tidy(() => mlp.forward(tf.tensor2d(z, [keys.length, width])).dataSync() as Float32Array);
        return collect(src, positions, r);
      } finally {
        mlp.dispose();
      }
    } finally {
      phase1.encoder.dispose();
      phase1.head.dispose();
    }
  }

  private rewardsOf(src: SequenceSource, positions: number[], net: RewardNet): Map<number, Float32Array> {
    const seqs = positions.flatMap((p) => src.data.records[p].responses);
    const rows = embedSequences(src, seqs, (b) => tf.expandDims<TF.Tensor2D>(net.reward(b, false, 0), 1));
    return collect(
      src,
      positions,
      Float32Array.from(rows, (r) => r[0]),
    );
  }

  private loadNet(component: string): RewardNet {
    const config = encoderOnly(this.model.encoder, 'scoring a run in the TensorFlow.js engine');
    const net = new RewardNet(Encoder.create(config, 0), ScalarHead.create(config.hidden, 0));
    loadParts(this.checkpoint(component), { [PART.encoder]: net.encoder, [PART.head]: net.head });
    return net;
  }

  private loadExpert(base: RewardNet, component: string): RewardNet {
    const net = new RewardNet(base.encoder, ScalarHead.create(base.encoder.config.hidden, 0), LoraAdapter.create(base.encoder.config, this.model.lora, 0));
    loadParts(this.checkpoint(component), { [PART.lora]: net.adapter!, [PART.head]: net.head });
    return net;
  }
}

/** Splits a flat list of per-response values back into one array per record. */
function collect(src: SequenceSource, positions: number[], flat: Float32Array): Map<number, Float32Array> {
  const out = new Map<number, Float32Array>();
  let at = 0;
  for (const p of positions) {
    const n = src.data.records[p].responses.length;
    out.set(p, flat.slice(at, at + n));
    at += n;
  }
  return out;
}
