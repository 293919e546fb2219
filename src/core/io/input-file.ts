import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { FileError, asFileError, errnoReason } from './file-error';

/**
 * The one check of every file or folder a command reads, before anything opens it: opening a FIFO blocks
 * until some writer comes (forever, for a forgotten one) and `<(cat f)` cannot seek, so only regular
 * files (and folders where a folder is asked for) pass.
 */
export function checkInput(file: string, kind: 'file' | 'directory' = 'file'): Stats {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw asFileError(file, e);
  }
  if (kind === 'directory') {
    if (!st.isDirectory()) throw new FileError(file, st.isFile() ? 'is a file, not a folder' : notRegular(st));
    return st;
  }
  if (st.isDirectory()) throw new FileError(file, 'is a folder, not a file');
  if (!st.isFile()) throw new FileError(file, notRegular(st));
  return st;
}

function notRegular(st: Stats): string {
  const what = st.isFIFO() ? 'a FIFO/pipe' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a file';
  return `not a regular file (${what}); save it to a file first`;
}

/** A JSON file the user or a run folder holds, parsed; `what` names it in errors ("the run state"). */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    checkInput(file);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const reason = e instanceof FileError ? e.reason : (errnoReason(e) ?? (e as Error).message);
    throw new FileError(file, `cannot read the ${what} (${reason})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new FileError(file, `the ${what} is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * The JSON value on the first line of `file` (read from its first 64 KiB), or undefined when it is not a
 * regular file, cannot be read or does not start with a JSON line: how a store or a journal of ours is
 * told from a dataset whatever it is named.
 */
export function firstJsonValue(file: string): unknown {
  let fd: number | undefined;
  try {
    // stat before open: opening a FIFO would wait for a writer.
    if (!statSync(file).isFile()) return undefined;
    fd = openSync(file, 'r');
    const head = Buffer.alloc(64 * 1024);
    const first = head
      .subarray(0, readSync(fd, head, 0, head.length, 0))
      .toString('utf8')
      .split('\n', 1)[0]
      .trim();
    return first === '' ? undefined : (JSON.parse(first) as unknown);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
