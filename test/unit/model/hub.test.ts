import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadBaseFolder } from '../../../src/core/model/hf-import';
import { hubFolder, isHubId } from '../../../src/core/model/hub';
import { encodeSafetensors, readSafetensors } from '../../../src/core/model/safetensors';
import { train } from '../../../src/core/training/train';
import { repoRoot } from '../../support/repo-root';

// The Hub download against a server on 127.0.0.1 that serves files as the Hub's resolve/ URLs do (with a
// redirect, as the Hub sends to its CDN, and HTTP Range), and can cut a transfer off halfway.
const dir = mkdtempSync(join(tmpdir(), 'rl-hub-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Served {
  url: string;
  requests: Array<{ path: string; range?: string }>;
  /** Bytes of `model.safetensors` after which the next response is cut off (once). */
  cutAfter?: number;
  close(): Promise<void>;
}

async function serve(files: Record<string, Buffer>): Promise<Served> {
  const state: Served = { url: '', requests: [], close: () => Promise.resolve() };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.requests.push({ path: req.url ?? '', range: req.headers.range });
    const m = /^\/org\/tiny\/resolve\/main\/(.+)$/.exec(req.url ?? '');
    if (m) {
      res.writeHead(302, { Location: `/cdn/${m[1]}` }).end();
      return;
    }
    const name = (req.url ?? '').replace(/^\/cdn\//, '');
    const body = files[name];
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const slice = body.subarray(start);
    res.writeHead(range ? 206 : 200, {
      'Content-Length': slice.length,
      ...(range ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (name === 'model.safetensors' && state.cutAfter !== undefined) {
      const cut = state.cutAfter;
      state.cutAfter = undefined;
      res.write(slice.subarray(0, cut), () => res.destroy());
      return;
    }
    res.end(slice);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise((r) => server.close(() => r()));
  return state;
}

void describe('Hub bases', () => {
  void test('an org/name id is a Hub id unless such a path exists', () => {
    assert.equal(isHubId('BAAI/bge-small-zh-v1.5'), true);
    assert.equal(isHubId('not an id'), false);
    assert.equal(isHubId('a/b/c'), false);
    assert.equal(isHubId(dir), false);
  });

  void test('downloads through redirects, resumes a transfer cut off halfway with Range, then serves from the cache', async () => {
    const files = { 'config.json': Buffer.from('{"model_type":"bert"}'), 'tokenizer.json': Buffer.from('{}'), 'model.safetensors': randomBytes(300_000) };
    const server = await serve(files);
    try {
      const cacheDir = join(dir, 'cache');
      server.cutAfter = 120_000;
      const progress: number[] = [];
      await assert.rejects(
        hubFolder('org/tiny', { endpoint: server.url, cacheDir, onProgress: (f, done) => f === 'model.safetensors' && progress.push(done) }),
      );
      const folder = join(cacheDir, 'org--tiny', 'main');
      assert.ok(!existsSync(join(folder, 'model.safetensors')), 'no half file under the real name');
      const part = readFileSync(join(folder, 'model.safetensors.part'));
      assert.ok(part.length > 0 && part.length < 300_000, `${part.length} bytes kept (what reached the disk before the cut)`);
      assert.ok(progress.length > 0 && progress.every((d, i) => i === 0 || d >= progress[i - 1]), 'progress grows');

      server.requests.length = 0;
      assert.equal(await hubFolder('org/tiny', { endpoint: server.url, cacheDir }), folder);
      assert.deepEqual(
        server.requests.filter((r) => r.path === '/cdn/model.safetensors').map((r) => r.range),
        [`bytes=${part.length}-`],
        'the second try asks for the rest only',
      );
      for (const [name, body] of Object.entries(files)) assert.ok(readFileSync(join(folder, name)).equals(body), `${name} is byte for byte the served file`);
      assert.deepEqual(
        readdirSync(folder).filter((f) => f.endsWith('.part')),
        [],
      );

      server.requests.length = 0;
      await hubFolder('org/tiny', { endpoint: server.url, cacheDir });
      assert.deepEqual(server.requests, [], 'nothing is asked for again (the optional file the server lacks is remembered as absent)');
    } finally {
      await server.close();
    }
  });

  void test('a missing required file says which', async () => {
    const server = await serve({ 'config.json': Buffer.from('{}') });
    try {
      await assert.rejects(hubFolder('org/tiny', { endpoint: server.url, cacheDir: join(dir, 'cache-missing') }), /the Hub has no tokenizer\.json at main/);
    } finally {
      await server.close();
    }
  });

  const fixture = join(repoRoot(), '..', 'shared', 'fixtures', 'hf-reference', 'tiny-bert');
  void test('train --base org/name: the run trains from the downloaded base', { skip: existsSync(fixture) ? false : `${fixture} is missing` }, async () => {
    const local = join(dir, 'tiny-bert');
    cpSync(fixture, local, { recursive: true });
    const files = Object.fromEntries(['config.json', 'tokenizer.json', 'model.safetensors'].map((f) => [f, readFileSync(join(local, f))]));
    const server = await serve(files);
    const previous = { endpoint: process.env.HF_ENDPOINT, cache: process.env.REWARDLENS_CACHE };
    process.env.HF_ENDPOINT = server.url;
    process.env.REWARDLENS_CACHE = join(dir, 'train-cache');
    try {
      const events: string[] = [];
      const summary = await train(
        {
          dataset: join(repoRoot(), 'test', 'fixtures', 'samples', 'hh-rlhf-harmless.sample.jsonl'),
          method: 'single',
          out: join(dir, 'run'),
          preset: 'tiny',
          base: 'org/tiny',
          backend: 'wasm',
          seed: 1,
          overrides: { 'maxSteps.base': 4, evalEvery: 2 },
        },
        { onEvent: (e) => e.type === 'phase' && events.push(e.message) },
      );
      assert.ok(summary.evaluation, 'trained and evaluated');
      assert.ok(
        events.some((m) => /^downloading org\/tiny: model\.safetensors/.test(m)),
        events.join('\n'),
      );
      assert.ok(existsSync(join(dir, 'train-cache', 'hub', 'org--tiny', 'main', 'model.safetensors')));
    } finally {
      process.env.HF_ENDPOINT = previous.endpoint;
      process.env.REWARDLENS_CACHE = previous.cache;
      if (previous.endpoint === undefined) delete process.env.HF_ENDPOINT;
      if (previous.cache === undefined) delete process.env.REWARDLENS_CACHE;
      await server.close();
    }
  });

  void test('sharded weights: model.safetensors.index.json and the shards it lists are downloaded, and the decoder loads from them', async () => {
    const qwen2 = join(repoRoot(), 'test', 'fixtures', 'hf-reference', 'tiny-qwen2');
    const { tensors } = readSafetensors(join(qwen2, 'model.safetensors'));
    const names = [...tensors.keys()].sort();
    const half = Math.ceil(names.length / 2);
    const shardNames = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    const weightMap = Object.fromEntries(names.map((n, i) => [`model.${n}`, shardNames[i < half ? 0 : 1]]));
    const withPrefix = (part: string[]): Buffer => {
      const prefixed = new Map(part.map((n) => [`model.${n}`, tensors.get(n)!]));
      return Buffer.from(encodeSafetensors(prefixed));
    };
    const files = {
      'config.json': readFileSync(join(qwen2, 'config.json')),
      'tokenizer.json': readFileSync(join(qwen2, 'tokenizer.json')),
      'model.safetensors.index.json': Buffer.from(JSON.stringify({ metadata: {}, weight_map: weightMap })),
      [shardNames[0]]: withPrefix(names.slice(0, half)),
      [shardNames[1]]: withPrefix(names.slice(half)),
    };
    const server = await serve(files);
    try {
      const folder = await hubFolder('org/tiny', { endpoint: server.url, cacheDir: join(dir, 'cache-sharded') });
      for (const name of shardNames) assert.ok(readFileSync(join(folder, name)).equals(files[name]), `${name} downloaded`);
      const base = loadBaseFolder(folder);
      assert.equal(base.kind, 'decoder');
      if (base.kind === 'decoder') for (const n of names) assert.deepEqual(base.weights.arrays.get(n)?.data, tensors.get(n)!.data, n);
    } finally {
      await server.close();
    }
    const evil = await serve({ ...files, 'model.safetensors.index.json': Buffer.from(JSON.stringify({ weight_map: { a: '../../outside.safetensors' } })) });
    try {
      await assert.rejects(
        hubFolder('org/tiny', { endpoint: evil.url, cacheDir: join(dir, 'cache-evil') }),
        /shard name "..\/..\/outside.safetensors" is not a plain/,
      );
    } finally {
      await evil.close();
    }
  });
});
