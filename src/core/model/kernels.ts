/**
 * Work-arounds for gaps and slow paths of @tensorflow/tfjs-backend-wasm 4.22
 * (measurements: shared/notes/ml-engine-measurements.md), and the matmul helpers the model uses so that
 * every matmul, forward and backward, is a plain 2-D or un-transposed product (the fast kernels on wasm).
 */
import { tf } from './tf';
import type { Tensor, Tensor2D, Tensor3D, Variable } from './tf';

/** The slice of tfjs-backend-wasm's BackendWasm the JS kernels below use. */
interface WasmBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: string): { dataId: object; shape: number[]; dtype: string };
  typedArrayFromHeap(t: { dataId: object; shape: number[]; dtype: string }): Float32Array | Int32Array;
}

interface KernelTensor {
  dataId: object;
  shape: number[];
  dtype: string;
}

/**
 * UnsortedSegmentSum: out[ids[i], …] += x[i, …]. wasm has no such kernel, yet the gradient of `gather`
 * (the embedding lookup) needs it: "Kernel 'UnsortedSegmentSum' not registered for backend 'wasm'".
 */
function unsortedSegmentSum(args: { inputs: Record<string, unknown>; attrs?: Record<string, unknown>; backend: unknown }): KernelTensor {
  const x = args.inputs.x as KernelTensor;
  const segmentIds = args.inputs.segmentIds as KernelTensor;
  const numSegments = Number(args.attrs?.numSegments);
  const backend = args.backend as WasmBackendLike;
  const idsRank = segmentIds.shape.length;
  const inner = x.shape.slice(idsRank).reduce((a, b) => a * b, 1);
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const xv = backend.readSync(x.dataId); // a copy: stays valid if makeOutput grows the heap
  const ids = backend.readSync(segmentIds.dataId);
  const out = backend.makeOutput([numSegments, ...x.shape.slice(idsRank)], x.dtype);
  const ov = backend.typedArrayFromHeap(out);
  ov.fill(0);
  for (let r = 0; r < rows; r++) {
    const s = ids[r];
    if (s < 0 || s >= numSegments) continue; // as TensorFlow: out-of-range ids are dropped
    const from = r * inner;
    const to = s * inner;
    for (let j = 0; j < inner; j++) ov[to + j] += xv[from + j];
  }
  return out;
}

type Save = (tensors: Tensor[]) => void;
type CustomArgs = Array<Tensor | Save>;

interface WasmHeapBackend extends WasmBackendLike {
  incRef(dataId: object): void;
}

type KernelArgs = { inputs: Record<string, unknown>; attrs?: Record<string, unknown>; backend: unknown };

/**
 * Copies the box [begin, begin + size) of x into a new tensor, reading x where it lies in the wasm heap.
 * tfjs-wasm's own Slice first copies all of x out of the heap (readSync), so slicing G pieces out of one
 * tensor costs O(G·|x|); this costs O(|piece|).
 */
function sliceInHeap(backend: WasmHeapBackend, x: KernelTensor, begin: number[], size: number[]): KernelTensor {
  const out = backend.makeOutput(size, x.dtype);
  // Views are taken after makeOutput: a heap that grows detaches earlier views.
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (rank === 0) {
    ov.set(xv);
    return out;
  }
  const strides = new Array<number>(rank);
  for (let d = rank - 1, s = 1; d >= 0; d--) {
    strides[d] = s;
    s *= x.shape[d];
  }
  // Trailing dimensions taken whole form one contiguous run per index of the leading ones.
  let inner = rank - 1;
  let run = size[rank - 1] ?? 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === x.shape[inner]) {
    inner--;
    run *= size[inner];
  }
  const outer = size.slice(0, inner);
  const count = outer.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(inner).fill(0);
  let o = 0;
  for (let n = 0; n < count; n++) {
    let from = 0;
    for (let d = 0; d < inner; d++) from += (begin[d] + idx[d]) * strides[d];
    from += begin[inner] * strides[inner];
    ov.set(xv.subarray(from, from + run), o);
    o += run;
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d] < outer[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function normaliseBox(shape: number[], begin: number[] | number, size: number[] | number): [number[], number[]] {
  const b = shape.map((_, d) => (typeof begin === 'number' ? (d === 0 ? begin : 0) : (begin[d] ?? 0)));
  const s = shape.map((n, d) => {
    const v = typeof size === 'number' ? (d === 0 ? size : -1) : (size[d] ?? -1);
    return v === -1 ? n - b[d] : v;
  });
  return [b, s];
}

function fastSlice(args: KernelArgs): KernelTensor {
  const x = args.inputs.x as KernelTensor;
  const [begin, size] = normaliseBox(x.shape, args.attrs?.begin as number[], args.attrs?.size as number[]);
  return sliceInHeap(args.backend as WasmHeapBackend, x, begin, size);
}

function fastUnpack(args: KernelArgs): KernelTensor[] {
  const x = args.inputs.value as KernelTensor;
  const rank = x.shape.length;
  const axis = ((Number(args.attrs?.axis ?? 0) % rank) + rank) % rank;
  const outShape = x.shape.filter((_, d) => d !== axis);
  const size = x.shape.slice();
  size[axis] = 1;
  return [...Array(x.shape[axis]).keys()].map((i) => {
    const begin = x.shape.map((_, d) => (d === axis ? i : 0));
    const out = sliceInHeap(args.backend as WasmHeapBackend, x, begin, size);
    return { ...out, shape: outShape };
  });
}

function fastSplitV(args: KernelArgs): KernelTensor[] {
  const x = args.inputs.x as KernelTensor;
  const rank = x.shape.length;
  const axis = ((Number(args.attrs?.axis ?? 0) % rank) + rank) % rank;
  const spec = args.attrs?.numOrSizeSplits as number | number[];
  const sizes = typeof spec === 'number' ? new Array<number>(spec).fill(x.shape[axis] / spec) : [...spec];
  const unknown = sizes.indexOf(-1);
  if (unknown >= 0) sizes[unknown] = x.shape[axis] - sizes.reduce((a, b) => a + (b === -1 ? 0 : b), 0);
  let at = 0;
  return sizes.map((n) => {
    const begin = x.shape.map((_, d) => (d === axis ? at : 0));
    const size = x.shape.map((m, d) => (d === axis ? n : m));
    at += n;
    return sliceInHeap(args.backend as WasmHeapBackend, x, begin, size);
  });
}

/** Identity shares its input's buffer (as tfjs's cpu backend does) instead of copying it. */
function sharedIdentity(args: KernelArgs): KernelTensor {
  const x = args.inputs.x as KernelTensor;
  (args.backend as WasmHeapBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

type KernelFn = (args: KernelArgs) => KernelTensor | KernelTensor[];
/** Stock wasm kernels that the replacements below hand the cases they do not cover. */
const stock = new Map<string, KernelFn>();

/** Row gather (an embedding lookup) by copying rows in the heap; other forms go to the stock kernel. */
function rowGather(args: KernelArgs): KernelTensor | KernelTensor[] {
  const x = args.inputs.x as KernelTensor;
  const indices = args.inputs.indices as KernelTensor;
  const axis = Number(args.attrs?.axis ?? 0);
  if (axis !== 0 || Number(args.attrs?.batchDims ?? 0) !== 0 || x.dtype !== 'float32' || indices.dtype !== 'int32') return stock.get('GatherV2')!(args);
  const backend = args.backend as WasmHeapBackend;
  const row = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const n = indices.shape.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], 'float32');
  const xv = backend.typedArrayFromHeap(x);
  const iv = backend.typedArrayFromHeap(indices);
  const ov = backend.typedArrayFromHeap(out);
  for (let i = 0; i < n; i++) {
    const r = iv[i];
    // As the stock kernel: an index outside the table is an error, not a silent row of zeros.
    if (!(r >= 0 && r < x.shape[0])) throw new Error(`GatherV2: the index value ${r} is not in [0, ${x.shape[0] - 1}]`);
    ov.set(xv.subarray(r * row, (r + 1) * row), i * row);
  }
  return out;
}

const FAST_KERNELS: Array<[string, KernelFn]> = [
  ['GatherV2', rowGather],
  ['Slice', fastSlice],
  ['Unpack', fastUnpack],
  ['SplitV', fastSplitV],
  ['Identity', sharedIdentity],
];

let fastKernelsOn = false;

/**
 * Registers the JS kernels wasm lacks, and (unless `fast` is false) replaces wasm's copying Slice,
 * Unpack, SplitV and Identity with ones that work in the heap; safe to call more than once.
 */
export function registerWasmKernelFixes(fast = true): void {
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum as never });
  }
  if (!fast || fastKernelsOn) return;
  for (const [name, kernelFunc] of FAST_KERNELS) {
    // registerKernel refuses a name that is taken: the stock kernel goes first.
    const old = tf.getKernel(name, 'wasm');
    if (old) {
      stock.set(name, old.kernelFunc as unknown as KernelFn);
      tf.unregisterKernel(name, 'wasm');
    }
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as never });
  }
  fastKernelsOn = true;
}

/**
 * y = x·Wᵀ for a weight in PyTorch's [out, in] layout, with a gradient made of plain 2-D products:
 * tfjs's own gradient uses transposed matmuls, which wasm runs in a naive loop 5–10× slower.
 * A weight that is a non-trainable Variable (a frozen base under LoRA) gets no gradient, which saves the
 * [out, in] product the optimiser would throw away.
 */
export function linear(x: Tensor2D /* [N, in] */, w: Tensor2D /* [out, in] */): Tensor2D /* [N, out] */ {
  if ((w as Partial<Variable>).trainable === false) return linearFrozen(x, w);
  const f = tf.customGrad((...args: CustomArgs) => {
    const [xi, wi, save] = args as [Tensor2D, Tensor2D, Save];
    save([xi, wi]);
    return {
      value: tf.matMul(xi, tf.transpose(wi)),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const g = dy as Tensor2D;
        const [xs, ws] = saved as [Tensor2D, Tensor2D];
        return [tf.matMul(g, ws), tf.matMul(tf.transpose(g), xs)];
      },
    };
  });
  return f(x, w) as Tensor2D;
}

function linearFrozen(x: Tensor2D, w: Tensor2D): Tensor2D {
  const f = tf.customGrad((...args: CustomArgs) => {
    const [xi, save] = args as [Tensor2D, Save];
    save([]);
    return {
      value: tf.matMul(xi, tf.transpose(w)),
      gradFunc: (dy: Tensor) => [tf.matMul(dy, w)],
    };
  });
  return f(x) as Tensor2D;
}

/**
 * Batched a·b (transposeB: a·bᵀ) on [G, m, k] tensors, with transposes materialised so the kernel and
 * both gradients see un-transposed operands.
 */
export function bmm(a: Tensor3D, b: Tensor3D, transposeB = false): Tensor3D {
  const f = tf.customGrad((...args: CustomArgs) => {
    const [ai, bi, save] = args as [Tensor3D, Tensor3D, Save];
    const bt = transposeB ? tf.transpose(bi, [0, 2, 1]) : bi; // [G, k, n]
    save([ai, bt]);
    return {
      value: tf.matMul(ai, bt),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const g = dy as Tensor3D; // [G, m, n]
        const [as, bs] = saved as [Tensor3D, Tensor3D];
        const da = tf.matMul(g, tf.transpose(bs, [0, 2, 1])); // [G, m, k]
        const dbt = tf.matMul(tf.transpose(as, [0, 2, 1]), g); // [G, k, n]
        return [da, transposeB ? tf.transpose(dbt, [0, 2, 1]) : dbt];
      },
    };
  });
  return f(a, b) as Tensor3D;
}

export interface AttentionShape {
  batch: number; // B
  seqLen: number; // T
  heads: number; // nh
}

/**
 * Multi-head scaled dot-product attention, softmax(q·kᵀ + maskAdd)·v per head, on projections laid out
 * [B*T, H] (q already scaled), with its gradient written by hand. Every product, forward and backward, is
 * a plain 2-D matmul of one (sequence, head) block: wasm runs those in XNNPACK at 10–20 GFLOP/s, while the
 * batched and transposed matmuls of the textbook formula fall to a naive loop at 1.5–2.
 * `drop` applies dropout to the probabilities, drawn as tf.dropout(probs, rate, undefined, seed) draws it.
 */
export function attention(
  q: Tensor2D,
  k: Tensor2D,
  v: Tensor2D,
  maskAdd: Tensor /* [B, 1, 1, T] */,
  shape: AttentionShape,
  drop?: DropoutSpec,
): Tensor2D /* [B*T, H] */ {
  const { batch: B, seqLen: T, heads: nh } = shape;
  const H = q.shape[1];
  const hd = H / nh;
  const G = B * nh;
  // [B*T, H] → [G*T, hd]: each (sequence, head) block is T consecutive rows
  const heads = (t: Tensor): Tensor2D =>
    t
      .reshape([B, T, nh, hd])
      .transpose([0, 2, 1, 3])
      .reshape([G * T, hd]);
  // [B*T, H] → [G*hd, T]: each block transposed, hd consecutive rows
  const headsT = (t: Tensor): Tensor2D =>
    t
      .reshape([B, T, nh, hd])
      .transpose([0, 2, 3, 1])
      .reshape([G * hd, T]);
  const merge = (t: Tensor): Tensor2D =>
    t
      .reshape([B, nh, T, hd])
      .transpose([0, 2, 1, 3])
      .reshape([B * T, H]);
  // [G*T, T] with each block transposed
  const blocksT = (t: Tensor): Tensor2D =>
    t
      .reshape([G, T, T])
      .transpose([0, 2, 1])
      .reshape([G * T, T]);
  /** Block g of a·b, with a in blocks of `ar` rows and b in blocks of `br` rows, concatenated over g. */
  const perBlock = (a: Tensor2D, ar: number, b: Tensor2D, br: number): Tensor2D => {
    const parts: Tensor2D[] = [];
    for (let g = 0; g < G; g++) {
      parts.push(tf.matMul(tf.slice(a, [g * ar, 0], [ar, a.shape[1]]), tf.slice(b, [g * br, 0], [br, b.shape[1]])));
    }
    return tf.concat(parts, 0);
  };
  const f = tf.customGrad((...args: CustomArgs) => {
    const [qi, ki, vi, save] = args as [Tensor2D, Tensor2D, Tensor2D, Save];
    // tidy: the 2·G blocks and their concatenations would otherwise live until the caller's scope ends.
    const dropMask = drop && dropMultiplier([G * T, T], drop);
    const [probs, value] = tf.tidy(() => {
      const scores = tf.add(perBlock(heads(qi), T, headsT(ki), hd).reshape([B, nh, T, T]), maskAdd);
      const p = tf.softmax(scores).reshape<Tensor2D>([G * T, T]);
      const kept = dropMask ? tf.mul<Tensor2D>(p, dropMask) : p;
      return [p, merge(perBlock(kept, T, heads(vi), T))];
    });
    // The dropped probabilities are recomputed in the backward pass rather than kept: one [G·T, T] buffer less per layer.
    save(dropMask ? [qi, ki, vi, probs, dropMask] : [qi, ki, vi, probs]);
    return {
      value,
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tf.tidy(() => {
          const [qs, ks, vs, p, m] = saved as Tensor2D[];
          const mask = m as Tensor2D | undefined;
          const pk = mask ? tf.mul<Tensor2D>(p, mask) : p;
          const dc = heads(dy); // [G*T, hd]
          const dv = perBlock(blocksT(pk), T, dc, T); // Pᵀ·dC
          let dp = perBlock(dc, T, headsT(vs), hd); // dC·Vᵀ
          if (mask) dp = tf.mul(dp, mask);
          // softmax backward: dS = P ⊙ (dP − Σ_j dP ⊙ P)
          const ds = tf.mul<Tensor2D>(p, tf.sub(dp, tf.sum(tf.mul(dp, p), 1, true)));
          const dq = perBlock(ds, T, heads(ks), T); // dS·K
          const dk = perBlock(blocksT(ds), T, heads(qs), T); // dSᵀ·Q
          return [merge(dq), merge(dk), merge(dv)];
        }),
    };
  });
  return f(q, k, v);
}

export interface DropoutSpec {
  rate: number;
  seed: number;
}

/** tf.dropout's multiplier, 0 or 1/keep, from the same uniform stream (same shape and seed, same mask). */
function dropMultiplier(shape: number[], { rate, seed }: DropoutSpec): Tensor {
  const keep = 1 - rate;
  return tf.tidy(() => tf.div(tf.floor(tf.add(tf.randomUniform(shape, 0, 1, 'float32', seed), keep)), keep));
}

/**
 * tf.dropout(x, rate, undefined, seed) with the same result, as one taped op that keeps only its mask:
 * the stock op's uniform draw, add, floor and divide are each recorded on the gradient tape (and held
 * until the backward pass ends) though none of them needs a gradient.
 */
export function dropout<R extends Tensor>(x: R, rate: number, seed: number): R {
  const f = tf.customGrad((...args: CustomArgs) => {
    const [xi, save] = args as [Tensor, Save];
    const m = dropMultiplier(xi.shape, { rate, seed }); // inside a custom op's forward nothing is taped
    save([m]);
    return { value: tf.mul(xi, m), gradFunc: (dy: Tensor, saved: Tensor[]) => [tf.mul(dy, saved[0])] };
  });
  return f(x) as R;
}

/**
 * BERT's exact GELU, 0.5·x·(1 + erf(x/√2)), as one taped op that keeps only x; its derivative is
 * Φ(x) + x·φ(x). The stock composition tapes five [N, I] tensors per layer.
 */
export function geluErf<R extends Tensor>(x: R): R {
  const f = tf.customGrad((...args: CustomArgs) => {
    const [xi, save] = args as [Tensor, Save];
    save([xi]);
    return {
      value: tf.tidy(() => tf.mul(tf.mul(0.5, xi), tf.add(1, tf.erf(tf.mul(xi, Math.SQRT1_2))))),
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tf.tidy(() => {
          const [xs] = saved;
          const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(xs, Math.SQRT1_2))));
          const pdf = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), 1 / Math.sqrt(2 * Math.PI));
          return [tf.mul(dy, tf.add(cdf, tf.mul(xs, pdf)))];
        }),
    };
  });
  return f(x) as R;
}
