import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { FileError, asFileError, errnoReason } from './file-error';

/**
 * Writing outputs without ever destroying an input: a command refuses an output that is one of its
 * inputs (`convert a.jsonl --out a.jsonl` used to truncate the dataset before reading it), and writes
 * through a temporary file in the same folder renamed over the target, so a failure or a kill leaves
 * the old file or the new one, never half of one.
 */

interface Identity {
  real: string;
  dev?: number;
  ino?: number;
  isDir: boolean;
}

/** Where `file` really is (symlinks resolved; for a file not yet there, its folder resolved), and its inode when it exists. */
function identity(file: string): Identity | undefined {
  try {
    const real = realpathSync(file);
    const st = statSync(real);
    return { real, dev: st.dev, ino: st.ino, isDir: st.isDirectory() };
  } catch {
    try {
      return { real: join(realpathSync(dirname(resolve(file))), basename(file)), isDir: false };
    } catch {
      return undefined;
    }
  }
}

function inside(dir: string, file: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * Throws a FileError when `out` is one of `inputs` (same path after resolving symlinks, or the same
 * device and inode: a hard link), or an existing file inside an input folder (a run folder).
 */
export function assertNotInput(out: string, inputs: readonly (string | undefined)[]): void {
  const o = identity(out);
  if (!o) return;
  for (const input of inputs) {
    if (input === undefined) continue;
    const i = identity(input);
    if (!i) continue;
    const same = o.real === i.real || (o.ino !== undefined && o.dev === i.dev && o.ino === i.ino);
    if (same)
      throw new FileError(
        out,
        input === out ? 'is also an input of this command: choose another output' : `is also an input of this command (${input}): choose another output`,
      );
    if (i.isDir && o.ino !== undefined && inside(i.real, o.real)) throw new FileError(out, `is a file of the input folder ${input}: choose another output`);
  }
}

let tmpCounter = 0;

/**
 * A file written under a temporary name beside `file` and renamed onto it by commit(); abort() (or
 * any failure) removes the temporary file and leaves `file` as it was.
 */
export class AtomicFile {
  private fd: number | undefined;
  readonly tmp: string;

  constructor(readonly file: string) {
    this.tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${++tmpCounter}.tmp`);
    let existing: Stats | undefined;
    try {
      existing = statSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotWrite(file, e);
    }
    // The rename would replace the entry itself: a FIFO, a device (/dev/null, as root) or a folder.
    if (existing && !existing.isFile())
      throw new FileError(file, existing.isDirectory() ? 'is a folder, not a file' : 'not a regular file: choose a file to write');
    try {
      this.fd = openSync(this.tmp, 'wx');
    } catch (e) {
      throw cannotWrite(file, e);
    }
  }

  write(data: string | Uint8Array): void {
    if (this.fd === undefined) throw new Error(`${this.file}: write after commit or abort`);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    try {
      let done = 0;
      while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done);
    } catch (e) {
      this.abort();
      throw cannotWrite(this.file, e);
    }
  }

  /** Flushes to disk (so a crash after the rename cannot leave an empty file under the name) and renames. */
  commit(): void {
    if (this.fd === undefined) throw new Error(`${this.file}: commit after commit or abort`);
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
      renameSync(this.tmp, this.file);
    } catch (e) {
      this.abort();
      throw cannotWrite(this.file, e);
    }
  }

  abort(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // already unusable; removing the file is what matters
      }
      this.fd = undefined;
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      // never created, or already renamed
    }
  }
}

/** `data` into `file` through a temporary file and a rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const f = new AtomicFile(file);
  f.write(data);
  f.commit();
}

/**
 * A copy of `source` at `file`, written as a new file (atomically, with this process's default mode):
 * copyFileSync would carry over a read-only source's mode (a base in a read-only store), and the next
 * copy over it, on resume, would then fail.
 */
export function copyFileAtomic(source: string, file: string): void {
  writeFileAtomic(file, readFileSync(source));
}

function cannotWrite(file: string, e: unknown): unknown {
  const reason = errnoReason(e);
  return reason === undefined ? e : new FileError(file, `cannot write (${reason})`);
}

/**
 * `mkdir -p`, one level at a time. Node's recursive mkdirSync spins forever, at full CPU and deaf to
 * signals, where mkdir says ENOENT under an existing parent (`/proc/run1`); here any failure is an error.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); ;) {
    let isDir: boolean | undefined;
    try {
      isDir = statSync(at).isDirectory();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw asFileError(dir, e);
    }
    if (isDir === false) throw new FileError(dir, at === resolve(dir) ? 'is a file, not a folder' : `${at} is a file, not a folder`);
    if (isDir) break;
    missing.push(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(d).isDirectory()) continue;
      throw new FileError(dir, `cannot create folder ${d} (${errnoReason(e) ?? (e as Error).message})`);
    }
  }
}
