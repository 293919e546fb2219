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

/** Registers the JS kernels wasm lacks; safe to call more than once. */
export function registerWasmKernelFixes(): void {
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum as never });
  }
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
