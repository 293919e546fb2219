import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PreferenceRecord } from '../../../src/core/dataset/record';
import type { ModelRecordScore } from '../../../src/core/scoring/session';
import { bar, modelAgreement, modelOrder, scoreHoverMarkdown, scoreLensTitle, scoreLensTooltip, signed } from '../../../src/extension/scoring/format';

// The score texts of CodeLens and hovers: pure, so tested without VS Code (the in-host test checks they reach the editor).

const CATEGORIES = ['objective knowledge QA', 'subjective knowledge QA'];

function record(ranking: number[] | undefined, texts = ['a', 'b', 'c']): PreferenceRecord {
  return { id: 'r', context: [{ role: 'user', content: 'q' }], responses: texts.map((text) => ({ text })), ...(ranking ? { preference: { ranking } } : {}) };
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Scores from reward logits; the σ rewards beside them are what the views must not show. */
function score(logits: number[]): ModelRecordScore {
  return {
    id: 'r',
    rewards: logits.map(sigmoid),
    logits,
    category: 'subjective knowledge QA',
    probabilities: [0.03, 0.97],
    capabilities: [
      { point: 'correctness', zh: '正确性', en: 'correctness', scores: logits.map((r) => r / 2) },
      { point: 'fluency', zh: '流畅性', en: 'fluency', scores: logits.map(() => 0.6) },
    ],
  };
}

void describe('score texts in the editor', () => {
  void it('draws bars from characters, clamped to [0, 1]', () => {
    assert.equal(bar(0.6), '▇▇▇▁▁');
    assert.equal(bar(0), '▁▁▁▁▁');
    assert.equal(bar(1.7), '▇▇▇▇▇');
    assert.equal(bar(-2), '▁▁▁▁▁');
    assert.equal(bar(Number.NaN), '▁▁▁▁▁');
  });

  void it('logits: signed, two decimals, no signed zero', () => {
    assert.deepEqual([signed(2.346), signed(-0.07), signed(-0.0001), signed(0), signed(Number.NaN)], ['+2.35', '-0.07', '0.00', '0.00', 'NaN']);
  });

  void it('orders responses by reward, ties in record order', () => {
    assert.deepEqual(modelOrder([0.1, 0.9, 0.5]), [1, 2, 0]);
    assert.deepEqual(modelOrder([0.5, 0.5, 0.7]), [2, 0, 1]);
  });

  void it('agreement: pairs and the margin of the human best against the rest', () => {
    const agreeing = modelAgreement(record([1, 2, 3]), [0.9, 0.5, 0.1]);
    assert.deepEqual(agreeing, { agree: 3, pairs: 3, modelTop: 0, humanBest: [0], margin: 0.9 - 0.5 });
    const wrongTop = modelAgreement(record([1, 2, 3]), [0.4, 0.7, 0.1]);
    assert.equal(wrongTop.agree, 2);
    assert.equal(wrongTop.modelTop, 1);
    assert.ok(Math.abs(wrongTop.margin! - (0.4 - 0.7)) < 1e-12);
    // Two responses tied for best: the better of them against the rest.
    const tied = modelAgreement(record([1, 1, 2]), [0.4, 0.7, 0.1]);
    assert.deepEqual(tied.humanBest, [0, 1]);
    assert.ok(Math.abs(tied.margin! - (0.7 - 0.1)) < 1e-12);
    assert.equal(tied.pairs, 2);
    // Everything tied: no pairs, no best, no margin.
    assert.deepEqual(modelAgreement(record([1, 1, 1]), [0.4, 0.7, 0.1]), { agree: 0, pairs: 0, humanBest: [], modelTop: 1 });
  });

  void it('lens: router decision with probability, rewards best first, ✓/✗ with the top margin', () => {
    assert.equal(
      scoreLensTitle(record([1, 2, 3]), score([0.9, 0.5, 0.1]), CATEGORIES),
      '$(git-merge) subjective knowledge QA 97% · R1 +0.90 › R2 +0.50 › R3 +0.10 · ✓ 3/3 pairs, top +0.40',
    );
    assert.equal(
      scoreLensTitle(record([1, 2, 3]), score([0.4, 0.7, 0.1]), CATEGORIES),
      '$(git-merge) subjective knowledge QA 97% · R2 +0.70 › R1 +0.40 › R3 +0.10 · ✗ 2/3 pairs, top -0.30',
    );
    assert.match(
      scoreLensTitle(record(undefined), { id: 'r', rewards: [0.2, 0.3, 0.1].map(sigmoid), logits: [0.2, 0.3, 0.1] }, []),
      /^R2 \+0\.30 › R1 \+0\.20 › R3 \+0\.10 · no human ranking$/,
    );
    assert.match(scoreLensTooltip('m.onnx', record([1, 2, 3]), score([0.4, 0.7, 0.1])), /prefers R2 to the human's best \(R1\) by \+0\.30 logit/);
    assert.match(scoreLensTooltip('m.onnx', record([1, 1, 3]), score([0.4, 0.7, 0.1])), /top \(R2\) is the human's best \(R1 = R2\), \+0\.60 logit above/);
  });

  void it('lens: past four responses, the top three and a count, so the title stays short', () => {
    const five = record([1, 2, 3, 4, 5], ['a', 'b', 'c', 'd', 'e']);
    const title = scoreLensTitle(five, score([2, 1, 0, -1, -2]), CATEGORIES);
    assert.equal(title, '$(git-merge) subjective knowledge QA 97% · R1 +2.00 › R2 +1.00 › R3 0.00 › +2 more · ✓ 10/10 pairs, top +1.00');
    assert.ok(!scoreLensTitle(record([1, 2, 3, 4], ['a', 'b', 'c', 'd']), score([2, 1, 0, -1]), CATEGORIES).includes('more'));
  });

  void it('lens: saturated σ rewards (all 1.000 in float32) still read apart as logits', () => {
    const s = score([19, 17.5, -18]);
    s.rewards = [1, 1, 0];
    assert.equal(
      scoreLensTitle(record([2, 1, 3]), s, CATEGORIES),
      '$(git-merge) subjective knowledge QA 97% · R1 +19.00 › R2 +17.50 › R3 -18.00 · ✗ 2/3 pairs, top -1.50',
    );
  });

  void it('lens: an icon syntax in a category name is not rendered as an icon', () => {
    const s = { ...score([0.9, 0.5, 0.1]), category: '$(bug) odd' };
    assert.ok(!scoreLensTitle(record([1, 2, 3]), s, ['$(bug) odd', 'x']).includes('$(bug)'));
  });

  void it('hover: router bars, one row per response with reward, capabilities and human rank', () => {
    const md = scoreHoverMarkdown('run/model.onnx', record([1, 2, 3]), score([0.9, 0.5, 0.1]), CATEGORIES);
    assert.match(md, /`▇▇▇▇▇`\u00a097% subjective knowledge QA ← routed · `▁▁▁▁▁`\u00a03% objective knowledge QA/);
    assert.match(md, /\| response \| reward logit \| correctness \| fluency \| human rank \|/);
    // Bars are relative within the record: highest full, lowest empty, equal values half.
    assert.match(md, /\| R1 \| `▇▇▇▇▇`\u00a0\+0\.90 \| `▇▇▇▇▇`\u00a00\.450 \| `▇▇▇▁▁`\u00a00\.600 \| 1 \|/);
    assert.match(md, /\| R2 \| `▇▇▇▁▁`\u00a0\+0\.50 \| `▇▇▇▁▁`\u00a00\.250 \| `▇▇▇▁▁`\u00a00\.600 \| 2 \|/);
    assert.match(md, /\| R3 \| `▁▁▁▁▁`\u00a0\+0\.10 \| `▁▁▁▁▁`\u00a00\.050 \| `▇▇▇▁▁`\u00a00\.600 \| 3 \|/);
    assert.ok(md.indexOf('| R1 ') < md.indexOf('| R2 ') && md.indexOf('| R2 ') < md.indexOf('| R3 '));
    assert.match(md, /✓ agrees on 3 of 3 human pairs/);
  });

  void it('hover: six capability points fit the default width: values without bars, nothing wraps under a bar', () => {
    const s = score([0.9, 0.5, 0.1, -0.3, -1.2]);
    s.capabilities = ['a', 'b', 'c', 'd', 'e', 'f'].map((p, k) => ({ point: p, zh: p, en: p, scores: [0.1, 0.2, 0.3, 0.4, 0.5].map((x) => x + k / 100) }));
    const md = scoreHoverMarkdown('m.onnx', record([1, 2, 3, 4, 5], ['a', 'b', 'c', 'd', 'e']), s, CATEGORIES);
    assert.match(md, /\| R1 \| `▇▇▇▇▇`\u00a0\+0\.90 \| 0\.10 \| 0\.11 \| 0\.12 \| 0\.13 \| 0\.14 \| 0\.15 \| 1 \|/);
    assert.match(md, /\|---\|---:\|(---:\|){6}:---:\|/, 'the human rank is centred, apart from the last value');
    assert.ok(!/`[▇▁]+` [-+0-9]/.test(md), 'no breakable space between a bar and its value');
  });

  void it('hover: a record with pairs and no ranking gets ranks from the pairs; a response in no pair has none', () => {
    const r: PreferenceRecord = {
      ...record(undefined, ['a', 'b', 'c']),
      preference: { pairs: [{ a: 0, b: 1, winner: 1 }] },
    };
    const md = scoreHoverMarkdown('m.onnx', r, score([0.2, 0.9, 0.5]), CATEGORIES);
    assert.match(md, /\| R2 \| [^\n]* \| 1 \|/);
    assert.match(md, /\| R1 \| [^\n]* \| 2 \|/);
    assert.match(md, /\| R3 \| [^\n]* \| — \|/);
  });

  void it('hover: names from the model and the data are escaped, no HTML passes', () => {
    const s = score([0.9, 0.5]);
    s.category = '<img src=x onerror=alert(1)>';
    s.capabilities![0].en = '<script>x</script>|pipe';
    const md = scoreHoverMarkdown('<b>m</b>.onnx', record([1, 2], ['a', 'b']), s, ['<img src=x onerror=alert(1)>', 'y']);
    assert.ok(!/<(img|script|b)\b/.test(md.replace(/\\</g, '')), md);
    assert.ok(md.includes('\\<img src=x onerror=alert\\(1\\)\\>'));
    assert.ok(md.includes('\\|pipe'), 'a pipe in a name cannot split the table');
  });
});
