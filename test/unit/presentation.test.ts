import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PreferenceRecord } from '../../src/core/dataset/record';
import { stringAt, responseForString } from '../../src/extension/hovers/locate';
import {
  describeRank,
  formatPreference,
  formatRanking,
  lensTitle,
  responseHeading,
  responsePreviewChars,
  snippet,
} from '../../src/extension/presentation/format';

// The text helpers behind CodeLens, hovers and the record browser: pure, so tested without VS Code.

function record(partial: Partial<PreferenceRecord>): PreferenceRecord {
  return { id: 'x', context: [{ role: 'user', content: 'q' }], responses: [{ text: 'a' }, { text: 'b' }], ...partial };
}

void describe('presentation', () => {
  void it('formats rankings best first, with ties', () => {
    assert.equal(formatRanking([2, 1, 2]), '#2 ≻ #1 = #3');
    assert.equal(formatRanking([1, 1]), '#1 = #2');
  });

  void it('describes annotator majorities and their absence', () => {
    const three = record({
      category: 'Grammarly',
      preference: { ranking: [2, 1], pairs: ['a1', 'a2', 'a3'].map((annotator, i) => ({ a: 0, b: 1, winner: i === 2 ? 0 : 1, annotator })) },
    });
    assert.equal(lensTitle(three), 'Grammarly · 2 responses · majority #2 ≻ #1 (2/3 annotators)');
    const many: PreferenceRecord = {
      id: 'q',
      category: 'objective knowledge QA',
      context: [{ role: 'user', content: 'q' }],
      responses: ['a', 'b', 'c', 'd'].map((text) => ({ text })),
      preference: {
        pairs: [
          { a: 0, b: 1, winner: 0 },
          { a: 0, b: 2, winner: 0 },
          { a: 1, b: 2, winner: null },
          { a: 2, b: 3, winner: 2 },
        ],
      },
    };
    assert.equal(lensTitle(many), 'objective knowledge QA · 4 responses · 4 pairs, best #1');
    const split = record({
      preference: {
        pairs: [
          { a: 0, b: 1, winner: 0, annotator: 'a1' },
          { a: 0, b: 1, winner: 1, annotator: 'a2' },
        ],
      },
    });
    assert.equal(formatPreference(split), 'majority #1 = #2 (no majority of 2)');
    assert.equal(formatPreference(record({})), 'unlabelled');
  });

  void it('names ranks and shortens text', () => {
    assert.equal(describeRank(1, [1, 2, 2]), 'best');
    assert.equal(describeRank(2, [1, 2, 2]), 'worst (tied)');
    assert.equal(describeRank(2, [1, 2, 3]), 'rank 2');
    assert.equal(snippet('  a\n\n b   c ', 10), 'a b c');
    assert.equal(snippet('abcdefghijkl', 5), 'abcd…');
  });

  void it('finds the JSON string under the cursor and the response it holds', () => {
    const line = '{"chosen": "Human: hi Assistant: hello", "rejected": "go"}';
    const at = stringAt(line, line.indexOf('hello'));
    assert.deepEqual(at && { value: at.value, isKey: at.isKey }, { value: 'Human: hi Assistant: hello', isKey: false });
    assert.equal(stringAt(line, 1)?.isKey, true);
    assert.equal(stringAt(line, line.indexOf(',')), undefined);
    const r = record({ responses: [{ text: 'hello' }, { text: 'go' }] });
    assert.equal(responseForString(r, 'Human: hi Assistant: hello'), 0);
    assert.equal(responseForString(r, 'go'), 1);
    assert.equal(responseForString(r, 'unrelated'), undefined);
  });

  void it('hover response headings say the same human rank as the score table, pairs-only records included', () => {
    const ranked = { id: 'r', context: [], responses: [{ text: 'a' }, { text: 'b' }], preference: { ranking: [1, 2] } };
    assert.equal(responseHeading(ranked, 0), '**Response 1** · human rank 1 — best');
    const paired = { id: 'p', context: [], responses: [{ text: 'a' }, { text: 'b' }, { text: 'c' }], preference: { pairs: [{ a: 0, b: 1, winner: 0 }] } };
    assert.equal(responseHeading(paired, 0), '**Response 1** · human rank 1 (from pairs)');
    assert.equal(responseHeading(paired, 2), '**Response 3** · no human rank');
    assert.ok(responsePreviewChars(5, false) * 4 + responsePreviewChars(5, true) < 1000, 'five responses fit one hover');
  });
});
