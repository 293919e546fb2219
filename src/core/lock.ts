import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * An advisory lock file holding `<pid>@<host>` and, where /proc tells, the owner's start time
 * (`<pid>@<host> <start>`), created exclusively, so that two processes never write one label store or one
 * run folder at once. A lock whose owner is gone — a crash or `kill -9` leaves the file — is taken over:
 * the owner is gone when no process has its pid, when that process is a zombie (it has exited; only its
 * parent has not reaped it yet, and `kill(pid, 0)` still succeeds on it), or when the process with its pid
 * started at another time (the pid was reused after a reboot or a long while). A lock of another machine
 * (a shared folder) is never taken over: its process cannot be checked from here. The PyTorch trainer
 * (trainer/rewardlens_trainer/run_folder.py) reads and writes the same format.
 */

export class LockedError extends Error {}

export interface FileLock {
  readonly file: string;
  release(): void;
}

/** Locks held by this process (a VS Code window may run several jobs). */
const held = new Set<string>();

/** `what` names the locked thing in messages: `the label store`, `the run folder /runs/a`. */
export function acquireLock(lockFile: string, what: string): FileLock {
  if (held.has(lockFile)) throw new LockedError(`${what} is in use by another job of this process (${lockFile})`);
  const me = ownerOf(process.pid);
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(lockFile, me, { flag: 'wx' });
      held.add(lockFile);
      return { file: lockFile, release: () => releaseLock(lockFile) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner: string;
    try {
      owner = readFileSync(lockFile, 'utf8').trim();
    } catch (e) {
      // Released between our attempt and this read: try again.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const [who, started] = owner.split(' ');
    const [pid, host] = who.split('@');
    if (host === hostname() && isAlive(Number(pid)) && Number(pid) !== process.pid && (started === undefined || started === startTime(Number(pid)))) {
      throw new LockedError(`${what} is in use by process ${pid} (${lockFile}); wait for it or stop it`);
    }
    if (host !== hostname() && host !== undefined) {
      throw new LockedError(`${what} is locked by process ${owner} on another machine (${lockFile}); delete the lock file if that process is gone`);
    }
    // The owner is gone (crash, kill -9, a zombie): take the lock over.
    try {
      unlinkSync(lockFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  throw new LockedError(`cannot lock ${what} (${lockFile})`);
}

function releaseLock(lockFile: string): void {
  held.delete(lockFile);
  try {
    if (readFileSync(lockFile, 'utf8').trim().startsWith(`${process.pid}@`)) unlinkSync(lockFile);
  } catch {
    // already gone
  }
}

/** What a lock file of `pid` on this machine holds. */
export function ownerOf(pid: number): string {
  const started = startTime(pid);
  return `${pid}@${hostname()}${started === undefined ? '' : ` ${started}`}`;
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot; undefined without /proc. */
function startTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** Whether `pid` is a running process: it exists and, where /proc tells, is not a zombie. */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return processState(pid) !== 'Z';
}

/**
 * The state letter of /proc/<pid>/stat (`R`, `S`, `Z`, …); undefined where there is no /proc. The
 * command name in parentheses may itself hold spaces and parentheses, so the state is read after the last `)`.
 */
function processState(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/** The fields of /proc/<pid>/stat after the command name (state first); undefined where there is no /proc. */
function statFields(pid: number): string[] | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .trim()
      .split(' ');
  } catch {
    return undefined;
  }
}
