import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SplitError, splitQuery } from '../../../src/core/serve/split-query';

const chatml =
  '<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\nIt is 4.<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n6.<|im_end|><|endoftext|>';
const llama3 =
  '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nName a colour.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nBlue.<|eot_id|>';

void describe('splitQuery', () => {
  void it('ChatML/Qwen: turns before the last assistant header, the response without end tokens', () => {
    const s = splitQuery(chatml, { template: 'chatml' });
    assert.deepEqual(s, {
      context: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: 'What is 2+2?' },
        { role: 'assistant', content: 'It is 4.' },
        { role: 'user', content: 'And 3+3?' },
      ],
      response: '6.',
    });
    assert.deepEqual(splitQuery(chatml, { template: 'auto' }), s);
  });

  void it('Llama-3: header turns, <|eot_id|> ends the response; a response cut off without it is kept whole', () => {
    const s = splitQuery(llama3, { template: 'llama3' });
    assert.deepEqual(s.context, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Name a colour.' },
    ]);
    assert.equal(s.response, 'Blue.');
    assert.equal(splitQuery(llama3.replace('<|eot_id|>', '').replace(/<\|eot_id\|>$/, ''), { template: 'auto' }).response, 'Blue.');
    assert.equal(splitQuery(llama3.slice(0, -'<|eot_id|>'.length) + ' More', { template: 'llama3' }).response, 'Blue. More');
  });

  void it('a custom marker: the text before it is one user turn', () => {
    assert.deepEqual(splitQuery('Q: hi there\nA: hello', { template: 'custom', marker: '\nA:' }), {
      context: [{ role: 'user', content: 'Q: hi there' }],
      response: 'hello',
    });
    assert.throws(() => splitQuery('x', { template: 'custom' }), /needs a marker/);
  });

  void it('no split point is a SplitError naming the expected header; the prompt is used when the query starts with it', () => {
    assert.throws(
      () => splitQuery('plain text', { template: 'chatml' }),
      (e: unknown) => e instanceof SplitError && /no split point.*<\|im_start\|>assistant/.test(e.message),
    );
    assert.throws(() => splitQuery(llama3, { template: 'chatml' }), SplitError);
    assert.throws(() => splitQuery('Q? A', { template: 'custom', marker: '###' }), /no split point: the query has no ###/);
    assert.deepEqual(splitQuery('Why? Because.', { template: 'auto' }, 'Why?'), { context: [{ role: 'user', content: 'Why?' }], response: 'Because.' });
    assert.throws(() => splitQuery('Why? Because.', { template: 'auto' }, 'How?'), SplitError);
  });

  void it('auto picks the template whose header comes last', () => {
    const q = `<|im_start|>user\nquote: <|start_header_id|>assistant<|end_header_id|>\n\nx<|im_end|>\n<|im_start|>assistant\nreal<|im_end|>`;
    assert.equal(splitQuery(q, { template: 'auto' }).response, 'real');
  });
});
