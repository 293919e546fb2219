import { basename } from 'node:path';

/**
 * A file the user named cannot be used as given (missing, a folder, a FIFO, one of the command's own
 * inputs as its output, …). Front ends print the message as it is (`<file>: <reason>`) and, in the CLI,
 * exit 2: the user can fix it, it is no bug.
 */
export class FileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'FileError';
  }
}

/** The errno codes a user's path can cause, in words; everything else is left to the caller. */
const ERRNO_REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many symbolic links (a symlink loop?)',
  ENAMETOOLONG: 'file name too long',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder not empty',
  EXDEV: 'cannot rename across file systems',
  ESPIPE: 'not a regular file (a pipe?); save it to a file first',
  ENXIO: 'not a regular file (no such device or address); save it to a file first',
  ENODEV: 'not a regular file (a device); save it to a file first',
  EINVAL: 'invalid argument for this file system',
  EMFILE: 'too many open files',
  EBUSY: 'resource busy',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  ETXTBSY: 'text file busy',
};

/** The readable reason of a Node errno error, or undefined when `e` is none of the codes above. */
export function errnoReason(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? ERRNO_REASONS[code] : undefined;
}

/** `e` as a FileError about `file` when it is an errno error of a user's path; else `e` unchanged. */
export function asFileError(file: string, e: unknown): unknown {
  if (e instanceof FileError) return e;
  const reason = errnoReason(e);
  return reason === undefined ? e : new FileError(file, reason);
}

/**
 * Any failure to read a file the user named (a dataset the engine cannot read, a broken mapping file)
 * as a FileError about it: the file's problem, not a bug. Aborts pass through unchanged.
 */
export function asInputError(file: string, e: unknown): unknown {
  if (e instanceof FileError || !(e instanceof Error) || e.name === 'AbortError') return e;
  const errno = asFileError(file, e);
  if (errno !== e) return errno;
  const prefix = [`${file}: `, `${basename(file)}: `].find((p) => e.message.startsWith(p));
  return new FileError(file, prefix ? e.message.slice(prefix.length) : e.message);
}
