import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LockedError, acquireLock, isAlive, ownerOf } from '../../src/core/lock';
import { RUN_FILES, RunFolder, lockRunFolder } from '../../src/core/training/run-folder';
import { train } from '../../src/core/training/train';

/** Issue 12 item 10: one writer per label store and per run folder; a lock of a dead or zombie process is taken over. */

const tmp = mkdtempSync(join(tmpdir(), 'rl-lock-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill();
  rmSync(tmp, { recursive: true, force: true });
});

/** A process that lives until the tests end. */
function liveProcess(): number {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(c);
  return c.pid!;
}

/**
 * The pid of a zombie: a short `sleep` started in the background by a shell that then becomes `sleep 60`,
 * which never reaps it. The child still runs when the shell execs (a shell may reap a child that has already
 * ended before it execs, and the pid is gone); if it is gone anyway, try again.
 */
async function zombie(): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const c = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(c);
    const pid = await new Promise<number>((resolve) => c.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    for (let i = 0; i < 250; i++) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        break;
      }
      if (stat.includes(') Z ')) return pid;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error('no zombie process could be made');
}

void describe('lock files', () => {
  void it('one holder at a time in this process; released, it can be taken again', () => {
    const file = join(tmp, 'a.lock');
    const lock = acquireLock(file, 'the thing');
    assert.throws(
      () => acquireLock(file, 'the thing'),
      (e: unknown) => e instanceof LockedError && /the thing is in use by another job of this process/.test(e.message),
    );
    lock.release();
    assert.ok(!existsSync(file));
    acquireLock(file, 'the thing').release();
  });

  void it('a live owner keeps it; a dead one loses it', async () => {
    const file = join(tmp, 'b.lock');
    const pid = liveProcess();
    writeFileSync(file, `${pid}@${hostname()}`);
    assert.throws(() => acquireLock(file, 'the thing'), new RegExp(`the thing is in use by process ${pid} `));
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(file, `${dead.pid}@${hostname()}`);
    acquireLock(file, 'the thing').release();
  });

  void it('a zombie owner is gone: its lock is taken over', { skip: process.platform !== 'linux' }, async () => {
    const pid = await zombie();
    assert.equal(isAlive(pid), false);
    const file = join(tmp, 'c.lock');
    writeFileSync(file, `${pid}@${hostname()}`);
    const lock = acquireLock(file, 'the thing');
    assert.equal(readFileSync(file, 'utf8'), ownerOf(process.pid));
    lock.release();
  });

  void it('a lock whose pid now belongs to a process started later is taken over; the real owner keeps it', { skip: process.platform !== 'linux' }, () => {
    const pid = liveProcess();
    const owner = ownerOf(pid);
    assert.match(owner, new RegExp(`^${pid}@${hostname()} \\d+$`), 'the start time is recorded');
    const file = join(tmp, 'd.lock');
    writeFileSync(file, owner);
    assert.throws(() => acquireLock(file, 'the thing'), LockedError);
    // The same pid with another start time: the lock's owner ended and the pid was given to a new process.
    writeFileSync(file, `${pid}@${hostname()} 1`);
    acquireLock(file, 'the thing').release();
  });
});

void describe('run folder lock', () => {
  void it('a second train on a folder in use is refused before it starts, naming the folder and the process', async () => {
    const out = join(tmp, 'run');
    const lock = lockRunFolder(out);
    // The lock file does not make the folder "not empty and not a run folder".
    RunFolder.create(out, { method: 'single' });
    lock.release();

    const pid = liveProcess();
    writeFileSync(join(out, RUN_FILES.lock), `${pid}@${hostname()}`);
    await assert.rejects(
      train({ dataset: join(tmp, 'missing.jsonl'), method: 'single', out, preset: 'tiny', backend: 'cpu', seed: 1 }),
      (e: unknown) => e instanceof LockedError && e.message.includes(`the run folder ${out} is in use by process ${pid}`),
    );
  });
});
