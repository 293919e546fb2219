import type { Adapter, AdapterOptions } from '../adapter';
import { canonicalAdapter } from './canonical';
import { chosenRejectedAdapter } from './chosen-rejected';
import { dmoermAdapter } from './dmoerm';
import { hhRlhfAdapter } from './hh-rlhf';
import { pairwiseLabelAdapter } from './pairwise-label';
import { pointwiseGroupedAdapter } from './pointwise-grouped';
import { promptResponseAdapter } from './prompt-response';
import { rankedNAdapter } from './ranked-n';

/**
 * The auto-detected adapters in priority order: detection ties go to the earlier one, so the most
 * specific shapes come first and the unlabelled catch-all comes last.
 */
export function builtinAdapters(options: AdapterOptions): readonly Adapter[] {
  return [
    canonicalAdapter,
    dmoermAdapter(options),
    hhRlhfAdapter,
    chosenRejectedAdapter,
    pairwiseLabelAdapter,
    rankedNAdapter(options),
    pointwiseGroupedAdapter,
    promptResponseAdapter,
  ];
}
