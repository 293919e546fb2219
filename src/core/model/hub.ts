/**
 * Pre-trained bases by Hugging Face Hub id (`--base BAAI/bge-small-zh-v1.5`), for users with internet: the
 * files a base needs are downloaded once into a cache and read from there afterwards. A download that breaks
 * off resumes where it stopped (HTTP Range on the `.part` file); a file is renamed to its name only when it is
 * complete, so the cache never holds half a file under a real name. Nothing here runs in tests against the
 * Hub: they serve a fixture from 127.0.0.1 (HF_ENDPOINT).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { FileError } from '../io/file-error';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * What a base folder holds (hf-import.ts reads it): the weights as one model.safetensors or, for larger
 * models, as shards listed in model.safetensors.index.json.
 */
const REQUIRED = ['config.json', 'tokenizer.json'];
const WEIGHTS = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';
const OPTIONAL = ['tokenizer_config.json'];

export interface HubOptions {
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  revision?: string;
  /** Default: REWARDLENS_CACHE/hub, else ~/.cache/rewardlens/hub. */
  cacheDir?: string;
  /** Default: HF_TOKEN (gated or private models); sent to the endpoint only. */
  token?: string;
  signal?: AbortSignal;
  onProgress?: (file: string, done: number, total: number | undefined) => void;
}

/** `org/name`, the Hub's id shape (a path that exists is a folder, not an id). */
export function isHubId(base: string): boolean {
  return /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(base) && !existsSync(base);
}

/** The local folder of `id` at `revision`, downloading what is missing; resolves when every file is whole. */
export async function hubFolder(id: string, options: HubOptions = {}): Promise<string> {
  if (!isHubId(id)) throw new Error(`${id}: not a Hub model id (org/name)`);
  const endpoint = (options.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const revision = options.revision ?? 'main';
  const cache = options.cacheDir ?? join(process.env.REWARDLENS_CACHE ?? join(homedir(), '.cache', 'rewardlens'), 'hub');
  const dir = join(cache, id.replace('/', '--'), revision);
  mkdirSync(dir, { recursive: true });
  const token = options.token ?? process.env.HF_TOKEN;
  const urlOf = (file: string): string => `${endpoint}/${id}/resolve/${encodeURIComponent(revision)}/${file}`;
  /** Whether `file` is in the folder, downloading it if need be; `.absent` remembers one the Hub lacks, so later runs ask nothing. */
  const fetchFile = async (file: string): Promise<boolean> => {
    const target = join(dir, file);
    if (existsSync(target)) return true;
    if (existsSync(`${target}.absent`)) return false;
    const found = await download(urlOf(file), target, file, token, options);
    if (!found) writeFileSync(`${target}.absent`, '');
    return found;
  };
  const missing = (file: string): Error =>
    new Error(`${id}: the Hub has no ${file} at ${revision} (${urlOf(file)}); a base needs ${[...REQUIRED, WEIGHTS].join(', ')} (or ${INDEX} and its shards)`);
  for (const file of REQUIRED) if (!(await fetchFile(file))) throw missing(file);
  if (!(await fetchFile(WEIGHTS))) {
    if (!(await fetchFile(INDEX))) throw missing(WEIGHTS);
    for (const shard of shardsOf(join(dir, INDEX))) if (!(await fetchFile(shard))) throw missing(shard);
  }
  for (const file of OPTIONAL) await fetchFile(file);
  return dir;
}

/** The shard files an index lists; names with a path in them are refused (they would land outside the cache). */
function shardsOf(index: string): string[] {
  let map: unknown;
  try {
    map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: unknown }).weight_map;
  } catch (e) {
    throw new Error(`${index}: cannot read JSON (${(e as Error).message})`);
  }
  if (typeof map !== 'object' || map === null) throw new Error(`${index}: field 'weight_map' is missing`);
  const shards = [...new Set(Object.values(map).map(String))].sort();
  const bad = shards.find((f) => !/^[\w.-]+\.safetensors$/.test(f) || f.startsWith('.'));
  if (bad) throw new Error(`${index}: shard name ${JSON.stringify(bad)} is not a plain .safetensors file name`);
  return shards;
}

/** Downloads `url` into `target` through `target.part`, resuming a part left by an earlier try. False on 404. */
async function download(url: string, target: string, name: string, token: string | undefined, options: HubOptions): Promise<boolean> {
  const part = `${target}.part`;
  const have = existsSync(part) ? statSync(part).size : 0;
  const headers: Record<string, string> = {};
  if (have > 0) headers.Range = `bytes=${have}-`;
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: options.signal, redirect: 'follow' });
  } catch (e) {
    if (options.signal?.aborted) throw e;
    // undici says only "fetch failed"; the reason (no route, DNS, refused) is its cause.
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new FileError(
      url,
      `cannot download (${cause?.code ?? cause?.message ?? (e as Error).message}): without internet, copy the model folder here and pass it with --base`,
    );
  }
  if (res.status === 404) return false;
  if (res.status === 416 && have > 0) {
    // The part already holds every byte (a crash between the last write and the rename).
    renameSync(part, target);
    return true;
  }
  if (res.status === 401 || res.status === 403) throw new Error(`${url}: ${res.status} — a gated or private model needs HF_TOKEN`);
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  const resumed = res.status === 206;
  const start = resumed ? have : 0;
  const length = Number(res.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) ? start + length : undefined;
  let done = start;
  options.onProgress?.(name, done, total);
  // 206: append to what the earlier try wrote; 200: the server sent the whole file, start over. Each chunk
  // is on disk before the next is read, so a transfer that breaks off keeps everything it received.
  const fd = openSync(part, resumed ? 'a' : 'w');
  try {
    const reader = res.body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      writeSync(fd, r.value);
      done += r.value.length;
      options.onProgress?.(name, done, total);
    }
  } finally {
    closeSync(fd);
  }
  if (total !== undefined && statSync(part).size !== total) throw new Error(`${url}: got ${statSync(part).size} of ${total} bytes; run again to resume`);
  renameSync(part, target);
  return true;
}
