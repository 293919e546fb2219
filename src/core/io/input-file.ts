import { statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { FileError, asFileError } from './file-error';

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
