import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(__dirname, '..', '..', '..', '..');
const cli = join(root, 'dist', 'cli.js');
const model = join(root, 'models', 'demo', 'model.onnx');

function refused(args: string[], message: RegExp): void {
  const r = spawnSync(process.execPath, [cli, 'serve', ...args], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split('\n').length, 1);
}

const query = (q: string, a: string): string => `<|im_start|>user\n${q}<|im_end|>\n<|im_start|>assistant\n${a}<|im_end|>`;

void describe('rewardlens serve (CLI)', () => {
  void it('refuses bad flags with one line and exit 2', () => {
    refused([model, '--host', '0.0.0.0'], /--host 0\.0\.0\.0 would let other machines reach the server; add --allow-remote/);
    refused([model, '--template', 'custom'], /needs --marker/);
    refused([model, '--template', 'mistral'], /--template must be auto, chatml, llama3 or custom/);
    refused([model, '--max-batch', '0'], /--max-batch must be an integer from 1/);
    refused([model, '--max-len', '100000', '--port', '0'], /--max-len must be from 4 to the model's 128 tokens/);
    refused([model, '--log', model], /model\.onnx/);
    // The model's manifest and tokenizer are inputs too; a log the server could not write stops it at start.
    refused([model, '--log', model.replace(/\.onnx$/, '.manifest.json')], /model\.manifest\.json: is also an input/);
    refused([model, '--log', model.replace(/\.onnx$/, '.tokenizer.json')], /model\.tokenizer\.json: is also an input/);
    refused([model, '--port', '0', '--log', join(tmpdir(), 'rl-no-such-folder', 'x.log')], /x\.log: no such file or folder/);
    refused([model, '--port', '0', '--log', tmpdir()], /is a folder, not a file/);
    refused([join(root, 'nope.onnx')], /nope\.onnx: no such file/);
    refused([model, '--port', '0', '--allow-remote', '--host', 'no-such-host.invalid'], /--host no-such-host\.invalid: no such address or host name/);
  });

  void it('a port in use is exit 2 naming it', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    try {
      refused([model, '--port', String((taken.address() as AddressInfo).port)], /127\.0\.0\.1:\d+: cannot listen \(EADDRINUSE\)/);
    } finally {
      taken.close();
    }
  });

  void it('serves on port 0 and, on SIGTERM, answers the request in flight before exiting 0', async () => {
    const child = spawn(process.execPath, [cli, 'serve', model, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /at (http:\/\/\S+)\/get_reward/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // Many queries so that the run is still going when the signal arrives.
    const body = JSON.stringify({ query: Array.from({ length: 400 }, (_, i) => query(`question ${i}`, `answer ${i} `.repeat(20))) });
    let answered = false;
    const pending = fetch(`${url}/get_reward`, { method: 'POST', body }).finally(() => (answered = true));
    await new Promise((r) => setTimeout(r, 30));
    // Still being scored when the signal goes: a 200 after it is the drain (a request it had not taken would get 503).
    assert.equal(answered, false, 'answered before the signal: nothing was in flight');
    child.kill('SIGTERM');
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { rewards: number[] }).rewards.length, 400);
    assert.equal(await exited, 0, err);
    assert.match(out, /stopping: answering requests in flight/);
  });
});
