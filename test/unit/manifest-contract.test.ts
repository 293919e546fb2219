import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/repo-root';

// Keeps package.json honest against the code: the commands it contributes are the CommandIds the
// extension registers, and the defaults it declares are the ones Config falls back to.

interface Manifest {
  contributes: {
    commands: Array<{ command: string }>;
    menus: Record<string, Array<{ command?: string; submenu?: string }>>;
    configuration: { properties: Record<string, { default?: unknown }> } | Array<{ properties: Record<string, { default?: unknown }> }>;
  };
}

const root = repoRoot();
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;

void test('every CommandId is contributed, every contributed command is a CommandId, menus name only those', () => {
  const ids = [...readFileSync(join(root, 'src', 'extension', 'command-id.ts'), 'utf8').matchAll(/=\s*'(rewardlens\.[A-Za-z]+)'/g)].map((m) => m[1]);
  const contributed = manifest.contributes.commands.map((c) => c.command);
  assert.ok(ids.length > 20, `${ids.length} command ids read`);
  assert.deepEqual(
    ids.filter((id) => !contributed.includes(id)),
    [],
    'CommandIds package.json does not contribute',
  );
  assert.deepEqual(
    contributed.filter((c) => !ids.includes(c)),
    [],
    'contributed commands that are no CommandId',
  );
  for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
    for (const item of items) if (item.command) assert.ok(ids.includes(item.command), `menu ${menu} names ${item.command}`);
  }
});

void test("every setting's default in package.json is the value Config falls back to", async () => {
  const properties = Object.assign({}, ...[manifest.contributes.configuration].flat().map((c) => c.properties)) as Record<string, { default?: unknown }>;
  let values: (key: string) => unknown = () => undefined;
  const read = new Set<string>();
  const fake = {
    workspace: {
      getConfiguration: (section: string) => ({
        get: (key: string) => (read.add(`${section}.${key}`), values(`${section}.${key}`)),
        inspect: (key: string) => (read.add(`${section}.${key}`), { defaultValue: values(`${section}.${key}`) }),
      }),
    },
  };
  // config.ts imports vscode, which only exists inside VS Code: this test hands it the two calls it makes.
  const load = (Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown })._load;
  (Module as unknown as { _load: typeof load })._load = (request, ...rest) => (request === 'vscode' ? fake : load(request, ...rest));
  try {
    const { Config } = await import('../../src/extension/config');
    const config = new Config() as unknown as Record<string, unknown>;
    const getters = Object.entries(Object.getOwnPropertyDescriptors(Object.getPrototypeOf(config)))
      .filter(([, d]) => d.get !== undefined)
      .map(([name]) => name);
    for (const name of getters) {
      values = () => undefined;
      const fallback = config[name];
      values = (key) => properties[key]?.default;
      const fromManifest = config[name];
      assert.deepEqual(
        fallback,
        fromManifest,
        `Config.${name}: falls back to ${JSON.stringify(fallback)}, package.json's default gives ${JSON.stringify(fromManifest)}`,
      );
    }
    const unread = Object.keys(properties).filter((k) => !read.has(k));
    assert.ok(getters.length > 20 && read.size > 20, `${getters.length} getters read ${read.size} settings`);
    assert.deepEqual(
      unread.filter((k) => properties[k].default !== undefined && !OUTSIDE_CONFIG.includes(k)),
      [],
      'settings with a default that no Config getter reads',
    );
  } finally {
    (Module as unknown as { _load: typeof load })._load = load;
  }
});

/** Settings read where they are used rather than through Config (none yet): name them here, with why. */
const OUTSIDE_CONFIG: string[] = [];
