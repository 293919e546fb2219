/**
 * A batch of token sequences as plain typed arrays, row-major [batch, seqLen], padded on the right.
 * Built by the featuriser (src/core/training/features.ts) and turned into tensors by the encoder; kept
 * free of tfjs so that data preparation, caching and worker messages need no tensors.
 */
export interface TokenBatch {
  /** Token ids in the encoder's (possibly compacted) vocabulary; padding positions hold `padId`. */
  ids: Int32Array;
  /** Segment ids: 0 for the context, 1 for the response (BERT's token_type_ids). */
  typeIds: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  mask: Int32Array;
  batch: number;
  seqLen: number;
}
