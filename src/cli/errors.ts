import { FileError, errnoReason } from '../core/io/file-error';
import { LockedError } from '../core/lock';
import { HyperParamError } from '../core/training/hparams';
import { printable } from './format';
import { errorMessage } from '../core/error-message';

/** A problem the user can fix on the command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

/**
 * How the CLI ends on an error: 2 and `rewardlens: <file>: <reason>` for anything the user can fix (bad
 * flags, unusable files, errno errors of a path they named), 1 only for what is a bug of ours. One line
 * in every case, control characters escaped: messages quote file names and dataset text.
 */
export function errorReport(e: unknown): { line: string; code: 1 | 2 } {
  const message = errorMessage(e);
  const oneLine = (text: string): string =>
    `rewardlens: ${printable(
      text
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .join('; '),
      false,
    )}`;
  // A file that cannot be used (a dataset the engine cannot read among them), a run folder another process
  // holds, a setting out of range: the user's to fix.
  if (e instanceof UsageError || e instanceof FileError || e instanceof LockedError || e instanceof HyperParamError) return { line: oneLine(message), code: 2 };
  const err = e as NodeJS.ErrnoException | null;
  if (typeof err?.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS_')) return { line: oneLine(flagProblem(message)), code: 2 };
  const reason = errnoReason(e);
  if (reason !== undefined) return { line: oneLine(typeof err?.path === 'string' ? `${err.path}: ${reason}` : reason), code: 2 };
  return { line: oneLine(message.split('\n')[0]), code: 1 };
}

/** parseArgs' messages in the `<flag>: <reason>` form (they are paragraphs of advice about `--`). */
function flagProblem(message: string): string {
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `${unknown[1]}: unknown option (see --help; a file whose name starts with '-' goes after '--')`;
  const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(message);
  if (ambiguous) return `${ambiguous[1]}: needs a value (one starting with '-' is written ${ambiguous[1]}=VALUE)`;
  const missing = /^Option '(\S+) <value>' argument missing/.exec(message);
  if (missing) return `${missing[1]}: needs a value`;
  return message;
}
