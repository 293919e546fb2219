import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

// What a user reads from the CLI (issue 13 points 6 and 11): help laid out usage first, score's records
// numbered from 1 as in the editor, and the agreement line naming its engine and pairs.
const cli = resolve(__dirname, '..', '..', 'cli.js');
const repo = resolve(__dirname, '..', '..', '..');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

void describe('CLI output', () => {
  void it('--help: every usage line before the first option section', () => {
    const r = run('--help');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const usageLines = lines.map((l, i) => (/^\s+rewardlens \w/.test(l) ? i : -1)).filter((i) => i >= 0);
    const firstSection = lines.findIndex((l) => /^(Options|Labelling|Training|ONNX)\b/.test(l));
    assert.ok(usageLines.length >= 10, `${usageLines.length} usage lines`);
    assert.ok(firstSection > Math.max(...usageLines), `a section at line ${firstSection + 1} before usage line ${Math.max(...usageLines) + 1}`);
    for (const cmd of ['index', 'label', 'train', 'eval', 'export', 'score']) assert.match(r.stdout, new RegExp(`^  rewardlens ${cmd} `, 'm'));
  });

  void it('score: records numbered from 1, the agreement with its engine and pairs', () => {
    const r = run(
      'score',
      join(repo, 'models', 'demo', 'model.onnx'),
      join(repo, 'test', 'fixtures', 'samples', 'hh-rlhf-harmless.sample.jsonl'),
      '--threads',
      '1',
    );
    assert.equal(r.code, 0, r.stderr);
    const first = r.stdout.split('\n')[0];
    assert.match(first, /^#1 \S+/, first);
    assert.ok(!/^#0 /m.test(r.stdout));
    assert.match(r.stdout, /agreement \d+\.\d% of 200 human pairs \(onnxruntime, exported model, pairs compared on reward logits;/);
  });
});
