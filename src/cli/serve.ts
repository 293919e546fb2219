import { checkInput } from '../core/io/input-file';
import { manifestFileFor, tokenizerFileFor } from '../core/export/manifest';
import { RequestLog } from '../core/serve/request-log';
import type { ServeOptions } from '../core/serve/server';
import { RewardServer, SERVE_DEFAULTS, isLoopback } from '../core/serve/server';
import { isTemplateName } from '../core/serve/split-query';
import { version } from '../../package.json';
import { HELP_FLAG, parseFlags, stringFlags } from './args';
import { UsageError } from './errors';
import { checkOutput } from './files';

/** `rewardlens serve MODEL.onnx` (docs/serve.md): an OpenRLHF-compatible reward server. */

export const SERVE_USAGE = `  rewardlens serve MODEL.onnx [--host 127.0.0.1] [--port N] [--max-batch N] [--max-len TOKENS]
                   [--template auto|chatml|llama3|custom] [--marker STR] [--log FILE]

Reward server (docs/serve.md; OpenRLHF --remote_rm_url http://HOST:PORT/get_reward):
  --host H             address to listen on (default 127.0.0.1); another than loopback needs --allow-remote
  --port N             port (default ${SERVE_DEFAULTS.port}; 0: any free one)
  --max-batch N        queries scored in one run, gathered from concurrent requests (default ${SERVE_DEFAULTS.maxBatch})
  --max-queue N        queries waiting at most before 503 (default 8 × --max-batch)
  --max-len TOKENS     reward-model input length, at most the model's (default: the model's)
  --template T         the policy's chat template, to split query into context and response (default auto)
  --marker STR         --template custom: the text the response follows
  --log FILE           append each query, its reward and breakdown to FILE as canonical JSONL (64 MiB, then FILE.1)
  REWARDLENS_SERVE_TOKEN (environment): a bearer token every route but /health asks for`;

const serveFlags = {
  ...stringFlags('host', 'port', 'max-batch', 'max-queue', 'max-len', 'template', 'marker', 'log', 'threads'),
  'allow-remote': { type: 'boolean', default: false },
  ...HELP_FLAG,
} as const;

export interface ServeArgs {
  help: false;
  model: string;
  log?: string;
  allowRemote: boolean;
  options: Omit<ServeOptions, 'version' | 'log'>;
}

function int(flag: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, not "${raw}"`);
  return n;
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): { help: true } | ServeArgs {
  const { values, positionals } = parseFlags(argv, serveFlags);
  if (values.help) return { help: true };
  if (positionals.length !== 1) throw new UsageError('usage: rewardlens serve MODEL.onnx');
  const model = positionals[0];
  checkInput(model);
  const template = values.template ?? (values.marker !== undefined ? 'custom' : 'auto');
  if (!isTemplateName(template)) throw new UsageError(`--template must be auto, chatml, llama3 or custom, not "${template}"`);
  if (template === 'custom' && !values.marker) throw new UsageError('--template custom needs --marker STR (the text the response follows)');
  if (template !== 'custom' && values.marker !== undefined) throw new UsageError('--marker goes with --template custom');
  const host = values.host ?? SERVE_DEFAULTS.host;
  if (!isLoopback(host) && !values['allow-remote'])
    throw new UsageError(`--host ${host} would let other machines reach the server; add --allow-remote if that is meant`);
  if (values.log !== undefined) checkOutput(values.log, [model, manifestFileFor(model), tokenizerFileFor(model)]);
  const maxBatch = int('max-batch', values['max-batch'], 1, 4096) ?? SERVE_DEFAULTS.maxBatch;
  const token = env.REWARDLENS_SERVE_TOKEN?.trim();
  return {
    help: false,
    model,
    log: values.log,
    allowRemote: values['allow-remote'],
    options: {
      ...SERVE_DEFAULTS,
      host,
      port: int('port', values.port, 0, 65535) ?? SERVE_DEFAULTS.port,
      maxBatch,
      maxQueue: int('max-queue', values['max-queue'], 1, 1 << 20) ?? 8 * maxBatch,
      maxLen: int('max-len', values['max-len'], 4, 1 << 20),
      split: { template, marker: values.marker },
      token: token || undefined,
      intraOpNumThreads: int('threads', values.threads, 1, 256),
    },
  };
}

export async function serveCommand(argv: string[]): Promise<number> {
  const args = parseServeArgs(argv);
  if (args.help) {
    console.log(`Usage:\n${SERVE_USAGE}`);
    return 0;
  }
  const { options } = args;
  let server: RewardServer;
  try {
    server = await RewardServer.start(args.model, {
      ...options,
      version,
      log: args.log ? new RequestLog(args.log) : undefined,
      onError: (e) => console.error(`rewardlens: ${(e as Error).message ?? String(e)}`),
    });
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(e.message);
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL')
      throw new UsageError(`${options.host}:${options.port}: cannot listen (${err.code})`);
    if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') throw new UsageError(`--host ${options.host}: no such address or host name (${err.code})`);
    throw e;
  }
  // Said once the server listens: a host it cannot listen on is refused on one line instead.
  if (!isLoopback(options.host))
    console.error(
      `rewardlens: warning: listening on ${options.host}: other machines can reach the reward server${options.token ? '' : ' and no REWARDLENS_SERVE_TOKEN is set'}`,
    );
  const info = server.info();
  console.log(`rewardlens: serving ${args.model} (${String(info.method)}) at ${server.url}/get_reward`);
  // SIGTERM (a job scheduler, VS Code's Stop) and Ctrl-C: answer what is in flight, then exit 0.
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      console.log('rewardlens: stopping: answering requests in flight');
      void server.close().then(resolve, resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}
