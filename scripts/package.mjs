// Packages RewardLens as .vsix files for `code --install-extension`.
//
//   node scripts/package.mjs [--target T[,T…] | --target all | --target universal] [--out-dir DIR] [--no-build]
//
// The bundles carry everything except onnxruntime-node (a native addon, external to esbuild): its
// JavaScript, onnxruntime-common and its prebuilt binaries come from node_modules through .vscodeignore's
// allow-list. One platform's binaries are 25–86 MB, all of them ≈ 300 MB, so by default the .vsix is
// platform-specific (VS Code installs the one matching its platform): --target narrows the allow-list's
// binaries line to that platform's folder. Default target: this machine's. `universal` packs every
// platform's binaries in one file, as a plain `vsce package --dependencies` does.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = join(import.meta.dirname, '..');
const ORT_BIN = 'node_modules/onnxruntime-node/bin';
/** The line of .vscodeignore that allows every platform's binaries. */
const ALL_BINARIES = `!${ORT_BIN}/napi-v*/**`;

/** vsce targets onnxruntime-node 1.30 has binaries for (no darwin-x64, none for musl/alpine or armhf). */
export const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];

/** This machine's vsce target, when onnxruntime-node has binaries for it. */
export function hostTarget() {
  const t = `${process.platform}-${process.arch}`;
  return TARGETS.includes(t) ? t : undefined;
}

/**
 * The allow-list lines of one target's binaries, read from the installed package. macOS: npm unpacks the
 * release's `libonnxruntime.1.dylib → libonnxruntime.1.30.0.dylib` symlink as two identical 43 MB files;
 * the binding loads `@rpath/libonnxruntime.1.dylib`, so the versioned copy stays out.
 */
function binaryLines(target) {
  const [platform, arch] = target.split('-');
  const napi = readdirSync(join(ROOT, ORT_BIN)).filter((d) => /^napi-v\d+$/.test(d));
  const lines = [];
  for (const n of napi) {
    const dir = `${ORT_BIN}/${n}/${platform}/${arch}`;
    if (!existsSync(join(ROOT, dir))) continue;
    const files = readdirSync(join(ROOT, dir));
    for (const f of files) {
      const short = /^libonnxruntime\.(\d+)\.\d+\.\d+\.dylib$/.exec(f);
      const alias = short && `libonnxruntime.${short[1]}.dylib`;
      if (alias && files.includes(alias) && statSync(join(ROOT, dir, f)).size === statSync(join(ROOT, dir, alias)).size) continue;
      lines.push(`!${dir}/${f}`);
    }
  }
  if (!lines.some((l) => l.endsWith('/onnxruntime_binding.node'))) {
    throw new Error(`${ORT_BIN}: no onnxruntime binding for ${target} (is onnxruntime-node installed, with its binaries?)`);
  }
  return lines;
}

/** .vscodeignore with its all-platforms binaries line replaced by `target`'s files. */
export function ignoreFileFor(target) {
  const lines = readFileSync(join(ROOT, '.vscodeignore'), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.trim() === ALL_BINARIES);
  if (at < 0) throw new Error(`.vscodeignore: no line "${ALL_BINARIES}" to narrow to one platform`);
  if (target === 'universal') return lines.join('\n');
  lines.splice(at, 1, ...binaryLines(target));
  return lines.join('\n');
}

/**
 * Builds one .vsix per target into `outDir` (the bundles must be built) and returns their paths. vsce
 * runs with --dependencies: without it, it never looks into node_modules.
 */
export function packageTargets(targets, outDir) {
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  const scratch = mkdtempSync(join(tmpdir(), 'rl-package-'));
  mkdirSync(outDir, { recursive: true });
  const out = [];
  try {
    for (const target of targets) {
      const ignore = join(scratch, `${target}.vscodeignore`);
      writeFileSync(ignore, ignoreFileFor(target));
      const vsix = join(outDir, target === 'universal' ? `rewardlens-${version}.vsix` : `rewardlens-${target}-${version}.vsix`);
      const vsce = join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce');
      const args = ['package', '--dependencies', '--no-rewrite-relative-links', '--ignoreFile', ignore, '--out', vsix];
      if (target !== 'universal') args.push('--target', target);
      execFileSync(vsce, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
      out.push(vsix);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return out;
}

function parseTargets(raw) {
  if (raw === undefined || raw === 'host') {
    const host = hostTarget();
    if (!host)
      throw new Error(`onnxruntime-node has no binaries for ${process.platform}-${process.arch}: give --target (${TARGETS.join(', ')}, all or universal)`);
    return [host];
  }
  const list = raw.split(',').flatMap((t) => (t.trim() === 'all' ? TARGETS : [t.trim()]));
  for (const t of list) if (t !== 'universal' && !TARGETS.includes(t)) throw new Error(`--target ${t}: not one of ${TARGETS.join(', ')}, all, universal`);
  return list;
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      'out-dir': { type: 'string', default: ROOT },
      'no-build': { type: 'boolean', default: false },
    },
  });
  try {
    const targets = parseTargets(values.target);
    if (!values['no-build']) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--production'], { cwd: ROOT, stdio: 'inherit' });
    for (const vsix of packageTargets(targets, values['out-dir'])) {
      console.log(`${vsix}: ${(statSync(vsix).size / 2 ** 20).toFixed(1)} MiB`);
    }
  } catch (e) {
    console.error(`package: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
