import type { MapResult } from '../adapter';
import type { Role, Turn } from '../record';
import { commonPrefixLength } from './turns';
import { done, fail } from './values';

/** Splitting two full conversations that share a beginning into context + two responses. */

export interface SplitConversations {
  context: Turn[];
  texts: [string, string];
}

export type RoleLabels = Readonly<Record<Role, string>>;

const plainLabels: RoleLabels = { system: 'System', user: 'User', assistant: 'Assistant' };

/**
 * The shared prefix of turns is the context and what follows in each conversation is its response.
 * Normally that is one assistant turn each. Two irregular cases keep every word instead of guessing:
 * - several assistant turns in a row after the prefix (an unmarked turn boundary inside the text):
 *   joined with a blank line, with a warning;
 * - the conversations part before their final assistant turns (they differ in a user turn): the
 *   context stays the shared prefix and each response is the rest of its conversation, written out
 *   as `Label: text` blocks, with a warning, so a reader sees exactly what was compared.
 * Identical conversations (a duplicate pair) split before their last turn, with a warning.
 */
export function splitAtDivergence(
  a: readonly Turn[],
  b: readonly Turn[],
  names: readonly [string, string],
  warnings: string[],
  labels: RoleLabels = plainLabels,
): MapResult<SplitConversations> {
  if (a.length === 0) return fail(`${names[0]} has no turns`);
  if (b.length === 0) return fail(`${names[1]} has no turns`);
  const shared = commonPrefixLength(a, b);
  const cut = Math.min(shared, a.length - 1, b.length - 1);
  if (a.length === b.length && shared === a.length) warnings.push(`${names[0]} and ${names[1]} are identical`);
  const context = a.slice(0, cut);
  // The usual pair, one assistant turn each after the context: no rests to build (part of the HH map speed-up).
  if (cut === a.length - 1 && cut === b.length - 1 && a[cut].role === 'assistant' && b[cut].role === 'assistant') {
    return done({ context, texts: [a[cut].content, b[cut].content] });
  }
  const rests = [a.slice(cut), b.slice(cut)];
  const texts = rests.map((rest, i) => {
    if (rest.every((turn) => turn.role === 'assistant')) {
      if (rest.length > 1) warnings.push(`${names[i]} has ${rest.length} assistant turns after the shared context; joined into one response`);
      return rest.map((turn) => turn.content).join('\n\n');
    }
    return rest.map((turn) => `${labels[turn.role]}: ${turn.content}`).join('\n\n');
  });
  if (rests.some((rest) => rest.some((turn) => turn.role !== 'assistant'))) {
    warnings.push(
      `${names[0]} and ${names[1]} diverge at turn ${cut + 1}, before their final assistant turns; each response holds the rest of its conversation`,
    );
  }
  return done({ context, texts: [texts[0], texts[1]] });
}
