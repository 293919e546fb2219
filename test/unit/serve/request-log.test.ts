import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RequestLog } from '../../../src/core/serve/request-log';

void describe('RequestLog', () => {
  void it('appends canonical lines and, past the cap, moves the file to FILE.1 once (replacing an older FILE.1)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-log-'));
    try {
      const file = join(dir, 'log.jsonl');
      const log = new RequestLog(file, 1000);
      const q = (n: number) => ({
        context: [{ role: 'user' as const, content: `q${n}` }],
        response: 'x'.repeat(100),
        score: { id: 'i', rewards: [n], logits: [n], category: 'c', probabilities: [1], capabilities: [{ point: 'p', zh: '', en: '', scores: [0.5] }] },
      });
      for (let n = 0; n < 30; n++) log.append([q(n)]);
      assert.ok(existsSync(`${file}.1`));
      assert.ok(statSync(file).size <= 1000 && statSync(`${file}.1`).size <= 1000);
      const lines = (f: string) =>
        readFileSync(f, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { category: string; metadata: { reward: number; capabilities: Record<string, number> } });
      const older = lines(`${file}.1`);
      const newer = lines(file);
      assert.equal(newer.at(-1)!.metadata.reward, 29);
      assert.equal(older.at(-1)!.metadata.reward + 1, newer[0].metadata.reward, 'no line lost between the two files');
      assert.deepEqual(newer[0].metadata.capabilities, { p: 0.5 });
      assert.equal(newer[0].category, 'c');
      // Reopening continues the count from the file's size.
      const again = new RequestLog(file, statSync(file).size + 10);
      again.append([q(99)]);
      assert.equal(lines(`${file}.1`).at(-1)!.metadata.reward, 29);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
