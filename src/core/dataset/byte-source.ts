import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { checkInput } from '../io/input-file';

/**
 * Random-access bytes: a file on disk (read through a descriptor, never loaded whole) or an
 * in-memory buffer (an editor's unsaved text). The indexer only ever needs these three calls.
 */
export interface ByteSource {
  readonly name: string;
  readonly size: number;
  /** Reads up to `length` bytes at `position` into `target`; returns the number read. */
  read(target: Uint8Array, position: number, length: number): number;
  close(): void;
}

export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | undefined;

  constructor(readonly name: string) {
    // Before opening: a FIFO would block the open until some writer comes, and a pipe cannot seek.
    checkInput(name);
    this.fd = openSync(name, 'r');
    this.size = fstatSync(this.fd).size;
  }

  read(target: Uint8Array, position: number, length: number): number {
    if (this.fd === undefined) throw new Error(`${this.name}: read after close`);
    let done = 0;
    // readSync may return short counts; loop until the request is met or the file ends.
    while (done < length) {
      const n = readSync(this.fd, target, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export class BufferSource implements ByteSource {
  readonly size: number;

  constructor(
    readonly name: string,
    readonly bytes: Uint8Array,
  ) {
    this.size = bytes.length;
  }

  read(target: Uint8Array, position: number, length: number): number {
    const end = Math.min(this.size, position + length);
    if (end <= position) return 0;
    target.set(this.bytes.subarray(position, end), 0);
    return end - position;
  }

  close(): void {}
}

/** Reads exactly `[start, start + length)` into a fresh buffer. */
export function readRange(source: ByteSource, start: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  const n = source.read(buf, start, length);
  return n === length ? buf : buf.subarray(0, n);
}
