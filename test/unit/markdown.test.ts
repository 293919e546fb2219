import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeBlock, escapeMarkdown, inlineCode } from '../../src/core/markdown';
import { agreement } from '../../src/core/training/evaluate';
import { renderModelCard } from '../../src/core/training/model-card';

/** Issue 12 item 12: text from a dataset never becomes HTML, an image or a new block in Markdown. */

const BEACON = '<img src="https://evil.example/b.png">';
const IMAGE = 'gpt-4\n\n![x](https://evil.example/i.png)';

/** Markup that would render: an unescaped `<`, `![`, or a line starting a new block, outside code. */
function live(md: string): string[] {
  const outsideCode = md.replace(/(`{3,})\n[\s\S]*?\n\1/g, '').replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, '');
  return [...outsideCode.matchAll(/(?<!\\)<\w|(?<!\\)!\\?\[|^\s*!\[/gm)].map((m) => m[0]);
}

void describe('markdown helpers', () => {
  void it('escapeMarkdown leaves no tag, image or line break, a lone CR included', () => {
    for (const text of [BEACON, IMAGE, 'a\r![x](https://evil.example/i.png)', 'x|y']) {
      const md = escapeMarkdown(text);
      assert.deepEqual(live(md), [], md);
      assert.ok(!/[\r\n]/.test(md), md);
    }
  });

  void it('inlineCode keeps text literal: a backtick or a newline cannot end the span', () => {
    assert.equal(inlineCode('gpt-4'), '`gpt-4`');
    assert.equal(inlineCode('a`b'), '``a`b``');
    assert.equal(inlineCode('`x'), '`` `x ``');
    const hostile = inlineCode('m`\n\n![x](https://evil.example/i.png)');
    assert.ok(!/[\r\n]/.test(hostile), hostile);
    assert.deepEqual(live(`model ${hostile}`), []);
  });

  void it('codeBlock uses a fence no line of the text can close', () => {
    const block = codeBlock(`a\n\`\`\`\n${BEACON}`);
    assert.ok(block.startsWith('````\n') && block.endsWith('\n````'), block);
  });
});

void describe('MODEL_CARD.md with hostile names', () => {
  void it('escapes category, point, expert and base names, and keeps file names and the evaluation table in code', () => {
    const md = renderModelCard({
      method: 'dmoerm',
      base: { kind: 'imported', folder: 'models/`x\n\n<img src=y>', name: BEACON, parameters: 1 },
      tokenizer: `tok ${BEACON}`,
      data: { file: 'a`b.jsonl', hash: 'h', records: 1, pairs: 1, categories: { [BEACON]: 1, [IMAGE]: 2 }, test: { records: 1, pairs: 1 } },
      phases: [{ phase: 'phase2', expert: `${BEACON}/${IMAGE}`, steps: 1, bestValAcc: 0.5 }],
      capabilityPoints: { [BEACON]: [{ point: IMAGE, pairs: 1 }] },
      evaluation: [agreement('dmoerm', [{ category: `\`\`\`\n${BEACON}`, pairs: [{ record: 0, winner: 0, loser: 1 }] }], () => [1, 0])],
      seed: 1,
      backend: 'wasm',
    });
    assert.deepEqual(live(md), []);
    assert.ok(md.includes('\\<img src="https://evil\\.example/b\\.png"\\>'), 'the category is shown, escaped');
    assert.ok(md.includes('````\n'), 'a longer fence around the evaluation table');
  });
});
