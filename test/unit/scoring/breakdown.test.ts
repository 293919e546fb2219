import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PreferenceRecord } from '../../../src/core/dataset/record';
import type { ModelRecordScore } from '../../../src/core/scoring/session';
import { buildBreakdown, rewardRanks, uiLanguage } from '../../../src/extension/scoring/breakdown';

// The reward breakdown panel's layout of one scored record: pure, so tested without VS Code (the
// in-host test checks it reaches the panel from the score lens).

const XSS = '<img src=x onerror=alert(1)>';

const record: PreferenceRecord = {
  id: 'rec',
  category: 'objective knowledge QA',
  context: [{ role: 'user', content: `<script>alert(1)</script> why?` }],
  responses: [{ text: 'a', ratings: [{ aspect: 'Correctness', value: 3, source: 'judge' }] }, { text: XSS, model: 'm2' }, { text: 'c' }],
  preference: { ranking: [2, 1, 3] },
};

const score: ModelRecordScore = {
  id: 'rec',
  rewards: [0.71, 0.6, 0.45],
  logits: [0.9, 0.4, -0.2],
  category: 'subjective knowledge QA',
  probabilities: [0.3, 0.7],
  capabilities: [
    { point: 'correctness', zh: '正确性', en: 'correctness', scores: [0.8, 0.5, 0.1] },
    { point: 'fluency', zh: '流畅性', en: '', scores: [0.2, 0.6, 0.4] },
  ],
  members: [
    [1, 0, -1],
    [0.8, 0.8, 0.6],
  ],
};

function build(language = 'en') {
  return buildBreakdown({
    uri: 'file:///d.jsonl',
    dataset: 'd.jsonl',
    index: 4,
    line: 5,
    record,
    score,
    manifest: {
      method: 'dmoerm',
      categories: ['objective knowledge QA', 'subjective knowledge QA'],
      ensemble: { members: ['run-a', 'run-b'], aggregation: 'mean', lambda: 0 },
    },
    modelFile: '/m/model.onnx',
    modelName: 'm/model.onnx',
    language,
  });
}

void describe('reward breakdown', () => {
  void it('one column per response: human rank, reward, rank by reward, agreement with the human', () => {
    const d = build();
    assert.deepEqual(
      d.columns.map((c) => [c.index, c.humanRank, c.reward, c.rewardRank, c.agree, c.pairs, c.humanBest, c.modelTop]),
      [
        [0, 2, 0.9, 1, 1, 2, false, true],
        [1, 1, 0.4, 2, 1, 2, true, false],
        [2, 3, -0.2, 3, 2, 2, false, false],
      ],
    );
    assert.deepEqual(d.agreement, { agree: 2, pairs: 3 });
    assert.equal(d.preference, 'ranking #2 ≻ #1 ≻ #3');
  });

  void it('router probabilities, most likely first, and the record’s own category beside them', () => {
    const d = build();
    assert.deepEqual(d.router, {
      chosen: 'subjective knowledge QA',
      categories: [
        { name: 'subjective knowledge QA', probability: 0.7 },
        { name: 'objective knowledge QA', probability: 0.3 },
      ],
    });
    assert.equal(d.category, 'objective knowledge QA');
  });

  void it('one row per capability point in the UI language (the other as alternative), members by name', () => {
    assert.deepEqual(
      build('en').capabilities.map((c) => [c.key, c.label, c.alternative, c.scores]),
      [
        ['correctness', 'correctness', '正确性', [0.8, 0.5, 0.1]],
        ['fluency', '流畅性', undefined, [0.2, 0.6, 0.4]],
      ],
    );
    assert.deepEqual(
      build('zh-cn').capabilities.map((c) => c.label),
      ['正确性', '流畅性'],
    );
    assert.equal(build('zh-tw').language, 'zh');
    assert.deepEqual(
      build().members.map((m) => [m.label, m.scores]),
      [
        ['run-a', [1, 0, -1]],
        ['run-b', [0.8, 0.8, 0.6]],
      ],
    );
    assert.deepEqual(build().model.ensemble, { members: ['run-a', 'run-b'], aggregation: 'mean' });
  });

  void it('passes texts and ratings through unchanged: the webview renders them as text', () => {
    const d = build();
    assert.equal(d.responses[1].text, XSS);
    assert.equal(d.context[0].content, '<script>alert(1)</script> why?');
    assert.deepEqual(d.responses[0].ratings, [{ aspect: 'Correctness', value: 3, source: 'judge' }]);
    assert.deepEqual(d.responses[2].ratings, []);
  });

  void it('ranks rewards with ties sharing a rank; picks the language from vscode.env.language', () => {
    assert.deepEqual(rewardRanks([0.5, 0.9, 0.5, 0.1]), [2, 1, 2, 4]);
    assert.equal(uiLanguage('zh-CN'), 'zh');
    assert.equal(uiLanguage('en-US'), 'en');
    assert.equal(uiLanguage('ja'), 'en');
  });
});
