import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultAdapterOptions, isGrouped } from '../../src/core/dataset/adapter';
import type { GroupedAdapter, MappedRecord, MapResult } from '../../src/core/dataset/adapter';
import { canonicalAdapter } from '../../src/core/dataset/adapters/canonical';
import { chosenRejectedAdapter } from '../../src/core/dataset/adapters/chosen-rejected';
import { dmoermAdapter } from '../../src/core/dataset/adapters/dmoerm';
import { hhRlhfAdapter } from '../../src/core/dataset/adapters/hh-rlhf';
import { pairwiseLabelAdapter } from '../../src/core/dataset/adapters/pairwise-label';
import { pointwiseGroupedAdapter } from '../../src/core/dataset/adapters/pointwise-grouped';
import { promptResponseAdapter } from '../../src/core/dataset/adapters/prompt-response';
import { rankedNAdapter } from '../../src/core/dataset/adapters/ranked-n';
import { denseRanks, rankingFromPairs } from '../../src/core/dataset/adapters/ranking';
import { builtinAdapters } from '../../src/core/dataset/adapters/registry';

function ok<T>(result: MapResult<T>): { value: T; warnings: string[] } {
  if (!result.ok) assert.fail(`expected success, got: ${result.reason}`);
  return { value: result.value, warnings: result.warnings ?? [] };
}

/** Empty responses are kept with a warning: refusing can be the preferred answer. */
function warningsOf(result: MapResult<unknown>): string[] {
  if (!result.ok) assert.fail(`expected success, got "${result.reason}"`);
  return result.warnings ?? [];
}

function reason(result: MapResult<unknown>): string {
  if (result.ok) assert.fail(`expected failure, got ${JSON.stringify(result.value)}`);
  return result.reason;
}

const lowerBetter = dmoermAdapter(defaultAdapterOptions);
const higherBetter = dmoermAdapter({ rankDirection: 'higher-is-better' });

void describe('dmoerm', () => {
  const base = { src: ['hi', 'how are you?'], tgt: ['hello'], response: ['fine', 'bad', 'ok', 'great'], label: 'chitchat' };

  void it('interleaves src and tgt into the context and keeps the label as category', () => {
    const { value } = ok(lowerBetter.map({ ...base, rank: [1, 3, 2, 1] }));
    assert.deepEqual(value.context, [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
      { role: 'user', content: 'how are you?' },
    ]);
    assert.deepEqual(
      value.responses.map((r) => r.text),
      ['fine', 'bad', 'ok', 'great'],
    );
    assert.equal(value.category, 'chitchat');
  });

  void it('reads ranks lower-is-better by default, dense with ties', () => {
    assert.deepEqual(ok(lowerBetter.map({ ...base, rank: [1, 3, 2, 1] })).value.preference, { ranking: [1, 3, 2, 1] });
    assert.deepEqual(ok(lowerBetter.map({ ...base, rank: [1, 4, 4, 2] })).value.preference, { ranking: [1, 3, 3, 2] });
  });

  void it('reads ranks higher-is-better when told, dense with ties', () => {
    assert.deepEqual(ok(higherBetter.map({ ...base, rank: [1, 3, 2, 1] })).value.preference, { ranking: [3, 1, 2, 3] });
    assert.deepEqual(ok(higherBetter.map({ ...base, rank: [2, 2, 4, 1] })).value.preference, { ranking: [2, 2, 1, 3] });
  });

  void it('refuses ranks that are not whole numbers 1…n, and says when a number is out of range', () => {
    assert.equal(
      reason(lowerBetter.map({ ...base, response: ['a', 'b', 'c'], rank: [1, 7, -3] })),
      'rank entry 2 is 7: ranks of 3 responses are whole numbers from 1 to 3 (equal ranks tie)',
    );
    assert.match(reason(lowerBetter.map({ ...base, rank: [1, 2, 0, 3] })), /^rank entry 3 is 0: /);
    assert.match(reason(lowerBetter.map({ ...base, rank: [1, 2, 2.5, 3] })), /^rank entry 3 is 2.5: /);
    const overflow = JSON.parse('{"src": ["q"], "response": ["a", "b"], "rank": [1, 1e309]}') as unknown;
    assert.equal(reason(lowerBetter.map(overflow)), 'rank entry 2 is out of range: a number beyond ±1.8e308 (like 1e309) cannot be represented');
  });

  void it('rejects a rank list of the wrong length, empty responses and non-string turns', () => {
    assert.equal(reason(lowerBetter.map({ ...base, rank: [1, 2, 3] })), 'rank has 3 entries but there are 4 responses');
    assert.deepEqual(warningsOf(lowerBetter.map({ ...base, response: ['a', ''], rank: [1, 2] })), ['response 2 is empty']);
    assert.equal(reason(lowerBetter.map({ ...base, src: ['hi', true], rank: [1, 2, 3, 4] })), '"src" entry 2 is a boolean, not a string');
    assert.match(reason(lowerBetter.map({ ...base, tgt: [], rank: [1, 2, 3, 4] })), /"tgt" has 0 entries but "src" has 2/);
    assert.equal(reason(lowerBetter.map({ ...base, rank: [1, '2', 3, 4] })), 'rank entry 2 is a string, not a number');
  });

  void it('warns about a whitespace-only history turn but keeps the record', () => {
    const { warnings } = ok(lowerBetter.map({ ...base, tgt: ['   '], rank: [1, 2, 3, 4] }));
    assert.deepEqual(warnings, ['context turn 2 (assistant) is empty']);
  });
});

void describe('hh-rlhf', () => {
  const prefix = '\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: Tell me a joke';

  void it('splits transcripts into turns; the shared prefix is the context', () => {
    const { value, warnings } = ok(hhRlhfAdapter.map({ chosen: `${prefix}\n\nAssistant: A pun.`, rejected: `${prefix}\n\nAssistant:  No.` }));
    assert.deepEqual(value.context, [
      { role: 'user', content: 'Hi there' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'Tell me a joke' },
    ]);
    assert.deepEqual(value.responses, [{ text: 'A pun.' }, { text: 'No.' }]);
    assert.deepEqual(value.preference, { ranking: [1, 2] });
    assert.deepEqual(warnings, []);
  });

  void it('keeps text before the first Human turn as a system turn, with a warning', () => {
    const lead = 'You are a helpful assistant.';
    const { value, warnings } = ok(hhRlhfAdapter.map({ chosen: `${lead}${prefix}\n\nAssistant: A`, rejected: `${lead}${prefix}\n\nAssistant: B` }));
    assert.deepEqual(value.context[0], { role: 'system', content: lead });
    assert.equal(value.context.length, 4);
    assert.deepEqual(warnings, [
      'chosen has text before its first Human turn; kept as a system turn',
      'rejected has text before its first Human turn; kept as a system turn',
    ]);
  });

  void it('warns on an empty final Assistant turn', () => {
    assert.deepEqual(warningsOf(hhRlhfAdapter.map({ chosen: `${prefix}\n\nAssistant: `, rejected: `${prefix}\n\nAssistant: Sure` })), [
      'response 1 (chosen) is empty: the transcript ends with an empty Assistant turn',
    ]);
  });

  void it('keeps the rest of each transcript when they diverge before the last turn', () => {
    const { value, warnings } = ok(
      hhRlhfAdapter.map({ chosen: `${prefix}\n\nAssistant: A\n\nHuman: more\n\nAssistant: B`, rejected: '\n\nHuman: Hi there\n\nAssistant: Go away.' }),
    );
    assert.deepEqual(value.context, [{ role: 'user', content: 'Hi there' }]);
    assert.equal(value.responses[0].text, 'Assistant: Hello!\n\nHuman: Tell me a joke\n\nAssistant: A\n\nHuman: more\n\nAssistant: B');
    assert.equal(value.responses[1].text, 'Go away.');
    assert.deepEqual(warnings, ['chosen and rejected diverge at turn 2, before their final assistant turns; each response holds the rest of its conversation']);
  });

  void it('rejects a transcript that ends with a Human turn', () => {
    assert.equal(reason(hhRlhfAdapter.map({ chosen: `${prefix}`, rejected: `${prefix}\n\nAssistant: x` })), 'chosen does not end with an Assistant turn');
  });
});

void describe('chosen-rejected', () => {
  void it('reads chosen/rejected lists of alternative answers: every chosen beats every rejected, each side ties', () => {
    const { value } = ok(chosenRejectedAdapter.map({ question: 'q', chosen: ['a', 'b'], rejected: ['c', 'd', 'e'], source: 's' }));
    assert.deepEqual(value.context, [{ role: 'user', content: 'q' }]);
    assert.deepEqual(
      value.responses.map((r) => r.text),
      ['a', 'b', 'c', 'd', 'e'],
    );
    assert.deepEqual(value.preference, { ranking: [1, 1, 2, 2, 2] });
    assert.deepEqual(value.metadata, { source: 's' });
    assert.deepEqual(ok(chosenRejectedAdapter.map({ prompt: 'q', chosen: 'a', rejected: ['c', 'd'] })).value.preference, { ranking: [1, 2, 2] });
    assert.equal(
      reason(chosenRejectedAdapter.map({ chosen: ['a'], rejected: ['b'] })),
      'no prompt: expected a "prompt", "question", "instruction" or "conversations" field beside the lists of answers',
    );
    assert.equal(
      reason(chosenRejectedAdapter.map({ prompt: 'q', chosen: ['a'], rejected: [] })),
      '"rejected" is an empty list, not a string or a list of strings like "chosen"',
    );
    assert.deepEqual(warningsOf(chosenRejectedAdapter.map({ prompt: 'q', chosen: ['a', ' '], rejected: ['c'] })), ['response 2 (chosen) is empty']);
  });

  void it('maps prompt + string responses', () => {
    const { value } = ok(chosenRejectedAdapter.map({ prompt: 'Q?', chosen: 'good', rejected: 'bad', id: 7 }));
    assert.deepEqual(value, {
      context: [{ role: 'user', content: 'Q?' }],
      responses: [{ text: 'good' }, { text: 'bad' }],
      preference: { ranking: [1, 2] },
      metadata: { id: 7 },
    });
  });

  void it('takes the shared prefix of whole conversations as the context (TRL conversational)', () => {
    const user = { role: 'user', content: 'Hi' };
    const { value } = ok(
      chosenRejectedAdapter.map({ chosen: [user, { role: 'assistant', content: 'Hello' }], rejected: [user, { role: 'assistant', content: 'Go' }] }),
    );
    assert.deepEqual(value.context, [{ role: 'user', content: 'Hi' }]);
    assert.deepEqual(value.responses, [{ text: 'Hello' }, { text: 'Go' }]);
  });

  void it('does not repeat a prompt that the conversations also contain', () => {
    const user = { role: 'user', content: 'Hi' };
    const { value } = ok(
      chosenRejectedAdapter.map({ prompt: [user], chosen: [user, { role: 'assistant', content: 'A' }], rejected: [user, { role: 'assistant', content: 'B' }] }),
    );
    assert.equal(value.context.length, 1);
  });

  void it('reads ShareGPT conversations with a system turn and {from, value} responses', () => {
    const { value } = ok(
      chosenRejectedAdapter.map({
        conversations: [
          { from: 'system', value: 'Be brief.' },
          { from: 'human', value: '你好' },
        ],
        chosen: { from: 'gpt', value: '你好！' },
        rejected: { from: 'gpt', value: '嗯' },
      }),
    );
    assert.deepEqual(value.context, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: '你好' },
    ]);
    assert.deepEqual(
      value.responses.map((r) => r.text),
      ['你好！', '嗯'],
    );
  });

  void it('reads MedicalGPT question/response_chosen/response_rejected', () => {
    const { value } = ok(chosenRejectedAdapter.map({ question: '症状?', response_chosen: 'a', response_rejected: 'b' }));
    assert.deepEqual(value.responses, [{ text: 'a' }, { text: 'b' }]);
    assert.equal(value.context[0].content, '症状?');
  });

  void it('joins instruction and input', () => {
    const { value } = ok(chosenRejectedAdapter.map({ instruction: 'Translate', input: 'chat', chosen: 'cat', rejected: 'dog' }));
    assert.equal(value.context[0].content, 'Translate\n\nchat');
  });

  void it('gives precise reasons', () => {
    assert.equal(reason(chosenRejectedAdapter.map({ prompt: 'Q', chosen: 'a' })), 'no field "rejected"');
    assert.deepEqual(warningsOf(chosenRejectedAdapter.map({ prompt: 'Q', chosen: 'a', rejected: '  ' })), ['response 2 (rejected) is empty']);
    assert.equal(
      reason(chosenRejectedAdapter.map({ prompt: 'Q', chosen: 3, rejected: 'b' })),
      '"chosen" is a number, not a string, a message or a list of messages',
    );
    assert.equal(
      reason(
        chosenRejectedAdapter.map({
          conversations: [
            { from: 'human', value: 'x' },
            { from: 'gpt', value: true },
          ],
          chosen: 'a',
          rejected: 'b',
        }),
      ),
      '"value" of turn 2 in "conversations" is a boolean, not a string',
    );
    assert.match(
      reason(chosenRejectedAdapter.map({ conversations: [{ from: 'narrator', value: 'x' }], chosen: 'a', rejected: 'b' })),
      /^turn 1 in "conversations" has unknown role "narrator"/,
    );
    assert.match(reason(chosenRejectedAdapter.map({ chosen: 'a', rejected: 'b' })), /^no prompt/);
  });
});

void describe('pairwise-label', () => {
  const autoj = { scenario: 'chitchat', prompt: 'Hi', 'response 1': 'Hello', 'response 2': 'Yo' };

  void it('reads AutoJ labels: 0 = response 1, 1 = response 2, 2 = tie', () => {
    assert.deepEqual(ok(pairwiseLabelAdapter.map({ ...autoj, label: 0 })).value.preference, { ranking: [1, 2] });
    assert.deepEqual(ok(pairwiseLabelAdapter.map({ ...autoj, label: 1 })).value.preference, { ranking: [2, 1] });
    assert.deepEqual(ok(pairwiseLabelAdapter.map({ ...autoj, label: 2 })).value.preference, { ranking: [1, 1] });
    assert.equal(ok(pairwiseLabelAdapter.map({ ...autoj, label: 0 })).value.category, 'chitchat');
  });

  void it('reads word labels and winner fields', () => {
    assert.deepEqual(ok(pairwiseLabelAdapter.map({ ...autoj, label: 'Response 2' })).value.preference, { ranking: [2, 1] });
    assert.deepEqual(ok(pairwiseLabelAdapter.map({ ...autoj, label: 'tie' })).value.preference, { ranking: [1, 1] });
    const arena = { question: 'Q', response_a: 'x', response_b: 'y', model_a: 'm1', model_b: 'm2', winner: 'model_b' };
    const { value } = ok(pairwiseLabelAdapter.map(arena));
    assert.deepEqual(value.preference, { ranking: [2, 1] });
    assert.deepEqual(value.responses, [
      { text: 'x', model: 'm1' },
      { text: 'y', model: 'm2' },
    ]);
  });

  void it('reads LLMBar {input, output_1, output_2, label}: the label names the better output, 0 a tie', () => {
    const llmbar = { input: 'Say hi', output_1: 'Hi', output_2: 'Bye' };
    const first = ok(pairwiseLabelAdapter.map({ ...llmbar, label: 1 })).value;
    assert.deepEqual(first.context, [{ role: 'user', content: 'Say hi' }]);
    assert.deepEqual(first.preference, { ranking: [1, 2] });
    assert.equal(first.metadata, undefined);
    assert.deepEqual(ok(pairwiseLabelAdapter.map({ ...llmbar, label: 2 })).value.preference, { ranking: [2, 1] });
    assert.deepEqual(ok(pairwiseLabelAdapter.map({ ...llmbar, label: 0 })).value.preference, { ranking: [1, 1] });
  });

  void it('keeps several annotators as pairs and ranks by majority (PandaLM: 0 tie, 1, 2)', () => {
    const panda = { instruction: 'Rewrite', input: 'text', response1: 'a', response2: 'b', motivation_app: 'Grammarly', idx: 3 };
    const agree = ok(pairwiseLabelAdapter.map({ ...panda, annotator1: 2, annotator2: 2, annotator3: 1 })).value;
    assert.deepEqual(agree.preference, {
      ranking: [2, 1],
      pairs: [
        { a: 0, b: 1, winner: 1, annotator: 'annotator1' },
        { a: 0, b: 1, winner: 1, annotator: 'annotator2' },
        { a: 0, b: 1, winner: 0, annotator: 'annotator3' },
      ],
    });
    assert.equal(agree.category, 'Grammarly');
    assert.equal(agree.context[0].content, 'Rewrite\n\ntext');
    assert.deepEqual(agree.metadata, { idx: 3 });
    const split = ok(pairwiseLabelAdapter.map({ ...panda, annotator1: 0, annotator2: 1, annotator3: 2 })).value;
    assert.deepEqual(split.preference?.ranking, [1, 1]);
    assert.deepEqual(
      split.preference?.pairs?.map((p) => p.winner),
      [null, 0, 1],
    );
  });

  void it('gives precise reasons', () => {
    assert.deepEqual(warningsOf(pairwiseLabelAdapter.map({ ...autoj, 'response 2': '', label: 0 })), ['response 2 is empty']);
    assert.equal(reason(pairwiseLabelAdapter.map({ ...autoj, 'response 1': true, label: 0 })), '"response 1" is a boolean, not a string');
    assert.match(reason(pairwiseLabelAdapter.map({ ...autoj, label: 7 })), /^"label" is 7, not a verdict \(0 = response 1, 1 = response 2, 2 = tie/);
    assert.match(reason(pairwiseLabelAdapter.map({ ...autoj, annotator1: 'maybe' })), /^"annotator1" is "maybe", not a verdict/);
  });
});

void describe('ranked-n', () => {
  const adapter = rankedNAdapter(defaultAdapterOptions);
  const qa = { question: 'When?', 'prediction 1': 'p1', 'prediction 2': 'p2', 'prediction 3': 'p3', 'prediction 4': 'p4', gold: 'g' };

  void it('derives a ranking from consistent FineGrained pairs (1v2,1v3,1v4,2v3,2v4,3v4)', () => {
    // 1 beats everyone, 2 beats 3 and 4, 3 and 4 undecided.
    const { value, warnings } = ok(adapter.map({ ...qa, preference: [1, 1, 1, 1, 1, 0] }));
    assert.deepEqual(value.preference?.ranking, [1, 2, 3, 3]);
    assert.deepEqual(value.preference?.pairs?.[0], { a: 0, b: 1, winner: 0 });
    assert.deepEqual(value.preference?.pairs?.[5], { a: 2, b: 3, winner: null });
    assert.deepEqual(value.metadata, { gold: 'g' });
    assert.deepEqual(warnings, []);
  });

  void it('keeps inconsistent (cyclic) pairs without a ranking, with a warning', () => {
    // 1 > 2, 2 > 3, 3 > 1: a cycle.
    const { value, warnings } = ok(adapter.map({ ...qa, preference: [1, 2, 0, 1, 0, 0] }));
    assert.equal(value.preference?.ranking, undefined);
    assert.equal(value.preference?.pairs?.length, 6);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /not consistent with one ranking/);
  });

  void it('ranks a responses list by scores (higher is better) or ranks (direction from options)', () => {
    assert.deepEqual(ok(adapter.map({ prompt: 'p', responses: ['a', 'b', 'c'], scores: [0.5, 2, 0.5] })).value.preference, { ranking: [2, 1, 2] });
    assert.deepEqual(ok(adapter.map({ prompt: 'p', responses: ['a', 'b', 'c'], ranks: [2, 1, 3] })).value.preference, { ranking: [2, 1, 3] });
    const higher = rankedNAdapter({ rankDirection: 'higher-is-better' });
    assert.deepEqual(ok(higher.map({ prompt: 'p', responses: ['a', 'b', 'c'], ranks: [2, 1, 3] })).value.preference, { ranking: [2, 3, 1] });
    const objects = ok(adapter.map({ prompt: 'p', responses: [{ text: 'a', model: 'x' }, { text: 'b' }], scores: [1, 2] })).value;
    assert.deepEqual(objects.responses, [{ text: 'a', model: 'x' }, { text: 'b' }]);
  });

  void it('gives precise reasons', () => {
    assert.equal(reason(adapter.map({ prompt: 'p', responses: ['a', 'b', 'c', 'd'], ranks: [1, 2, 3] })), 'ranks has 3 entries but there are 4 responses');
    assert.equal(reason(adapter.map({ ...qa, preference: [1, 1, 1] })), 'preference has 3 verdicts but 4 responses have 6 pairs');
    assert.ok(warningsOf(adapter.map({ ...qa, 'prediction 3': '', preference: [1, 1, 1, 1, 1, 1] })).includes('response 3 is empty'));
    assert.equal(reason(adapter.map({ ...qa, preference: [1, 1, 1, 1, 1, 9] })), 'preference entry 6 is 9, not a verdict (0 = none, 1 = first, 2 = second)');
    assert.match(reason(adapter.map({ prompt: 'p', responses: ['a', 'b', 'c'], ranks: [1, 7, -3] })), /^ranks entry 2 is 7: /);
    assert.deepEqual(ok(adapter.map({ prompt: 'p', responses: ['a', 'b', 'c'], scores: [1, 7, -3] })).value.preference, { ranking: [2, 1, 3] });
  });
});

void describe('prompt-response', () => {
  void it('maps unlabelled records without a preference', () => {
    const { value } = ok(promptResponseAdapter.map({ scenario: 'post_summarization', prompt: '总结', response: '好的' }));
    assert.deepEqual(value, { context: [{ role: 'user', content: '总结' }], responses: [{ text: '好的' }], category: 'post_summarization' });
    assert.equal(ok(promptResponseAdapter.map({ prompt: 'p', responses: ['a', 'b'] })).value.responses.length, 2);
  });

  void it('is not detected on labelled data', () => {
    assert.equal(
      promptResponseAdapter.detect([
        { prompt: 'p', response: 'r', label: 1 },
        { prompt: 'p', output: 'r', score: 3 },
      ]),
      0,
    );
    assert.equal(promptResponseAdapter.detect([{ prompt: 'p', response: 'r' }, { nothing: 1 }]), 0.5);
  });

  void it('keeps an empty response with a warning', () => {
    assert.deepEqual(warningsOf(promptResponseAdapter.map({ prompt: 'p', response: ' ' })), ['response 1 is empty']);
  });
});

void describe('pointwise-grouped', () => {
  const adapter: GroupedAdapter = pointwiseGroupedAdapter;
  const row = (llm: string, answer: unknown, stars: Record<string, unknown>): Record<string, unknown> => ({
    question_uuid: 'Physics_1',
    dialog_uuid: `${llm}_Physics_1`,
    llm_name: llm,
    dialog: [
      { role: 'user', content: '日心说?' },
      { role: 'llm', content: answer },
    ],
    hint: '哥白尼',
    type: 'A',
    stars,
  });

  function merge(rows: Record<string, unknown>[]): { value: MappedRecord; warnings: string[] } {
    return ok(adapter.mergeGroup(rows.map((r) => ok(adapter.mapRow(r)).value)));
  }

  void it('groups llmeval2 rows: ratings, model, ranking by total stars', () => {
    assert.deepEqual(ok(adapter.groupKey(row('a', 'x', {}))).value, 'Physics_1');
    const { value } = merge([
      row('360', '哥白尼', { Correctness: 2, 'Explanation Correctness': 1 }),
      row('glm', '托勒密', { Correctness: 0, 'Explanation Correctness': 0 }),
      row('qwen', '哥白尼。', { Correctness: 3, 'Explanation Correctness': 0 }),
    ]);
    assert.deepEqual(value.context, [{ role: 'user', content: '日心说?' }]);
    assert.deepEqual(value.responses[0], {
      text: '哥白尼',
      model: '360',
      ratings: [
        { aspect: 'Correctness', value: 2, source: 'human' },
        { aspect: 'Explanation Correctness', value: 1, source: 'human' },
      ],
    });
    assert.deepEqual(value.preference, { ranking: [1, 2, 1] });
    assert.equal(value.category, 'A');
    assert.equal(value.metadata?.hint, '哥白尼');
    assert.equal(value.metadata?.question_uuid, 'Physics_1');
    assert.deepEqual((value.metadata?.perResponse as Record<string, unknown>).dialog_uuid, ['360_Physics_1', 'glm_Physics_1', 'qwen_Physics_1']);
  });

  void it('rejects a row whose answer is a boolean (llmeval2 has content: true)', () => {
    assert.equal(reason(adapter.mapRow(row('x', true, { Correctness: 1 }))), '"content" of turn 2 in "dialog" is a boolean, not a string');
    assert.equal(reason(adapter.mapRow(row('x', 'a', { Correctness: '1' }))), '"stars" aspect "Correctness" is a string, not a number');
  });

  void it('warns when rows of one group disagree on the prompt', () => {
    const other = {
      ...row('b', 'y', { Correctness: 1 }),
      dialog: [
        { role: 'user', content: '另一个问题' },
        { role: 'llm', content: 'y' },
      ],
    };
    const { warnings } = merge([row('a', 'x', { Correctness: 1 }), other]);
    assert.deepEqual(warnings, ["row 2 of the group has a different context; using the first row's"]);
  });
});

// canonical.ts is not this suite's: only its place in detection is checked here.
void describe('canonical', () => {
  const record = {
    id: '0123456789abcdef',
    category: 'qa',
    context: [{ role: 'user', content: 'q' }],
    responses: [{ text: 'a', model: 'm', ratings: [{ aspect: 'x', value: 1, source: 'human' }] }, { text: 'b' }],
    preference: { ranking: [2, 1], pairs: [{ a: 0, b: 1, winner: 1, annotator: 'ann1' }] },
    metadata: { k: 1 },
  };

  void it('reads converted output back and is detected beside other shapes', () => {
    const withoutId = Object.fromEntries(Object.entries(record).filter(([key]) => key !== 'id'));
    assert.deepEqual(ok(canonicalAdapter.map(record)).value, withoutId);
    assert.equal(canonicalAdapter.detect([record, { prompt: 'p', chosen: 'a', rejected: 'b' }]), 0.5);
  });

  void it('refuses a stored ranking outside 1…n', () => {
    assert.match(reason(canonicalAdapter.map({ ...record, preference: { ranking: [1, 3] } })), /^ranking entry 2 is 3: /);
  });
});

void describe('ranking helpers', () => {
  void it('dense ranks', () => {
    assert.deepEqual(denseRanks([3, 1, 3, 2], 'higher'), [1, 3, 1, 2]);
    assert.deepEqual(denseRanks([3, 1, 3, 2], 'lower'), [3, 1, 3, 2]);
  });

  void it('pairs that win counts cannot order are reported even without a cycle', () => {
    // 0 > 1 only, but 1 beats 2, 3 and 4: Copeland puts 1 above 0, against the verdict.
    const pairs = [
      { a: 0, b: 1, winner: 0 },
      { a: 1, b: 2, winner: 1 },
      { a: 1, b: 3, winner: 1 },
      { a: 1, b: 4, winner: 1 },
    ];
    assert.ok('problem' in rankingFromPairs(5, pairs));
  });
});

void describe('registry', () => {
  void it('lists every adapter once, in priority order', () => {
    const names = builtinAdapters(defaultAdapterOptions).map((a) => a.name);
    assert.deepEqual(names, ['canonical', 'dmoerm', 'hh-rlhf', 'chosen-rejected', 'pairwise-label', 'ranked-n', 'pointwise-grouped', 'prompt-response']);
  });

  void it('never throws on hostile input', () => {
    const hostile: unknown[] = [null, 42, 'str', [], {}, { chosen: null, rejected: [] }, { src: 5, response: {}, rank: 'x' }, { question_uuid: {}, stars: [] }];
    for (const adapter of builtinAdapters(defaultAdapterOptions)) {
      for (const value of hostile) {
        assert.doesNotThrow(
          () => {
            adapter.detect([value]);
            if (!isGrouped(adapter)) adapter.map(value);
            else {
              adapter.groupKey(value);
              adapter.mapRow(value);
            }
          },
          `${adapter.name} threw on ${JSON.stringify(value)}`,
        );
      }
    }
  });
});
