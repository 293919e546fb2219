/**
 * Heads over the encoder's pooled vector: the paper's scalar value head, its Phase 3 MLP aggregator, and the
 * router's classifier. Linear weights use PyTorch's [out, in] layout, as the encoder.
 */
import { filled, normal, subSeed, uniform } from './init';
import { linear } from './kernels';
import type { NamedArray } from './safetensors';
import { tf, variableOf } from './tf';
import type { Tensor1D, Tensor2D, Variable } from './tf';
import { cloneVariables } from './encoder';

/** PyTorch's PReLU starts every slope at 0.25. */
const PRELU_INIT = 0.25;

function variablesFrom(named: Map<string, NamedArray>, names: string[], where: string): Map<string, Variable> {
  const out = new Map<string, Variable>();
  for (const n of names) {
    const t = named.get(n);
    if (!t) throw new Error(`${where}: missing parameter '${n}'`);
    out.set(n, variableOf(t.data, t.shape));
  }
  return out;
}

function shapeOf(named: Map<string, NamedArray>, name: string, rank: number, where: string): number[] {
  const t = named.get(name);
  if (!t) throw new Error(`${where}: missing parameter '${name}'`);
  if (t.shape.length !== rank) throw new Error(`${where}: parameter '${name}' has shape ${JSON.stringify(t.shape)}, expected rank ${rank}`);
  return t.shape;
}

function expectShape(named: Map<string, NamedArray>, name: string, shape: number[], where: string): void {
  const s = shapeOf(named, name, shape.length, where);
  if (s.some((d, i) => d !== shape[i])) throw new Error(`${where}: parameter '${name}' has shape ${JSON.stringify(s)}, expected ${JSON.stringify(shape)}`);
}

/** PyTorch nn.Linear's default: weight and bias U(±1/√in). */
function torchLinear(out: number, inDim: number, seed: number, name: string): [Variable, Variable] {
  const bound = 1 / Math.sqrt(inDim);
  return [
    variableOf(uniform(out * inDim, bound, subSeed(seed, `${name}.weight`)), [out, inDim]),
    variableOf(uniform(out, bound, subSeed(seed, `${name}.bias`)), [out]),
  ];
}

abstract class Head {
  protected constructor(protected readonly params: Map<string, Variable>) {}

  named(): Map<string, Variable> {
    return new Map(this.params);
  }

  variables(): Variable[] {
    return [...this.params.values()];
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }

  protected p<R = Tensor2D>(name: string): R {
    const v = this.params.get(name);
    if (!v) throw new Error(`head has no parameter '${name}' (disposed?)`);
    return v as unknown as R;
  }
}

/** The paper's value head: reward σ(z·w + b) in (0, 1). */
export class ScalarHead extends Head {
  static create(inDim: number, seed: number): ScalarHead {
    // BERT-style N(0, 0.02) keeps initial rewards near 0.5, where σ is steepest.
    const weight = variableOf(normal(inDim, 0.02, subSeed(seed, 'scalar.weight')), [1, inDim]);
    const bias = variableOf(filled(1, 0), [1]);
    return new ScalarHead(
      new Map<string, Variable>([
        ['weight', weight],
        ['bias', bias],
      ]),
    );
  }

  static fromNamed(named: Map<string, NamedArray>, where = 'scalar head'): ScalarHead {
    const [, inDim] = shapeOf(named, 'weight', 2, where);
    expectShape(named, 'weight', [1, inDim], where);
    expectShape(named, 'bias', [1], where);
    return new ScalarHead(variablesFrom(named, ['weight', 'bias'], where));
  }

  forward(z: Tensor2D /* [B, in] */): Tensor1D /* [B] */ {
    return tf.tidy(() => tf.sigmoid(tf.add(linear(z, this.p('weight')), this.p<Tensor1D>('bias'))).reshape<Tensor1D>([-1]));
  }

  clone(): ScalarHead {
    return new ScalarHead(cloneVariables(this.params));
  }
}

/** The paper's Phase 3 aggregator: σ(W1 · PReLU(W0 z + b0) + b1), one PReLU slope per hidden unit. */
export class MlpHead extends Head {
  static create(inDim: number, hidden: number, seed: number): MlpHead {
    const [w0, b0] = torchLinear(hidden, inDim, seed, 'w0');
    const [w1, b1] = torchLinear(1, hidden, seed, 'w1');
    const prelu = variableOf(filled(hidden, PRELU_INIT), [hidden]);
    return new MlpHead(
      new Map<string, Variable>([
        ['w0', w0],
        ['b0', b0],
        ['prelu', prelu],
        ['w1', w1],
        ['b1', b1],
      ]),
    );
  }

  static fromNamed(named: Map<string, NamedArray>, where = 'MLP head'): MlpHead {
    const [hidden, inDim] = shapeOf(named, 'w0', 2, where);
    expectShape(named, 'b0', [hidden], where);
    expectShape(named, 'prelu', [hidden], where);
    expectShape(named, 'w1', [1, hidden], where);
    expectShape(named, 'b1', [1], where);
    void inDim;
    return new MlpHead(variablesFrom(named, ['w0', 'b0', 'prelu', 'w1', 'b1'], where));
  }

  forward(z: Tensor2D /* [B, in] */): Tensor1D /* [B] */ {
    return tf.tidy(() => {
      const h = tf.add<Tensor2D>(linear(z, this.p('w0')), this.p<Tensor1D>('b0')); // [B, hidden]
      const act = tf.prelu(h, this.p<Tensor2D>('prelu')); // slopes [hidden] broadcast over rows
      return tf.sigmoid(tf.add(linear(act, this.p('w1')), this.p<Tensor1D>('b1'))).reshape<Tensor1D>([-1]);
    });
  }

  clone(): MlpHead {
    return new MlpHead(cloneVariables(this.params));
  }
}

/** The router's gate: logits over categories (top-1 at inference). */
export class Classifier extends Head {
  static create(inDim: number, classes: number, seed: number): Classifier {
    const [weight, bias] = torchLinear(classes, inDim, seed, 'classifier');
    return new Classifier(
      new Map<string, Variable>([
        ['weight', weight],
        ['bias', bias],
      ]),
    );
  }

  static fromNamed(named: Map<string, NamedArray>, where = 'classifier'): Classifier {
    const [classes] = shapeOf(named, 'weight', 2, where);
    expectShape(named, 'bias', [classes], where);
    return new Classifier(variablesFrom(named, ['weight', 'bias'], where));
  }

  get classes(): number {
    return this.p('weight').shape[0];
  }

  logits(z: Tensor2D /* [B, in] */): Tensor2D /* [B, classes] */ {
    return tf.tidy(() => tf.add<Tensor2D>(linear(z, this.p('weight')), this.p<Tensor1D>('bias')));
  }

  clone(): Classifier {
    return new Classifier(cloneVariables(this.params));
  }
}
