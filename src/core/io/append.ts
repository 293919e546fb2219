import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

/**
 * For an append-only JSONL file opened with `fd` (flag 'a'): ends a torn last line (a crash mid-write) with a
 * newline, so that the next line starts on its own and the torn one stays a single unreadable line.
 */
export function endTornLine(file: string, fd: number): void {
  const size = fstatSync(fd).size;
  if (size === 0) return;
  const last = Buffer.alloc(1);
  const rfd = openSync(file, 'r');
  try {
    readSync(rfd, last, 0, 1, size - 1);
  } finally {
    closeSync(rfd);
  }
  if (last[0] !== 0x0a) writeSync(fd, '\n');
}
