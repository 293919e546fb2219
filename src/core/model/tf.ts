/**
 * The one TensorFlow.js namespace every model module uses (`import { tf } from './tf'`).
 *
 * It is the bundled @tensorflow/tfjs by default. tfjs-node(-gpu) is loaded at run time from another folder
 * (the extension's global storage) and carries its own copy of tfjs-core: tensors of one copy cannot meet
 * ops of the other, so after loading it the backend module swaps the whole namespace here. `tf` is a live
 * binding (esbuild keeps ES module `let` exports live), so modules read the current one on each use.
 */
import * as bundled from '@tensorflow/tfjs';
import type { Variable } from '@tensorflow/tfjs';

export type TfNamespace = typeof bundled;
export type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable } from '@tensorflow/tfjs';

export let tf: TfNamespace = bundled;

/** Makes `ns` the namespace all model code uses (e.g. the tfjs-node module, which re-exports tfjs). */
export function useTfNamespace(ns: TfNamespace): void {
  tf = ns;
}

/** The bundled namespace, whatever `tf` is now (the wasm backend registers with this one). */
export function bundledTf(): TfNamespace {
  return bundled;
}

/** A trainable variable holding `values`; the staging tensor is released (tf.variable keeps its own reference). */
export function variableOf(values: Float32Array, shape: number[], trainable = true): Variable {
  const t = tf.tensor(values, shape, 'float32');
  const v = tf.variable(t, trainable);
  t.dispose();
  return v;
}
