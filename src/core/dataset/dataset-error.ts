import { FileError } from '../io/file-error';

/**
 * A file the engine refuses as a whole — it is not a preference dataset it can read (empty, UTF-16,
 * not JSON, one pretty-printed object, records of a shape no adapter maps). A FileError: callers show
 * `message` (`<file>: <reason>`) as a one-line usage error; a bug in the engine is never one of these.
 */
export class DatasetFileError extends FileError {
  constructor(file: string, reason: string) {
    super(file, reason);
    this.name = 'DatasetFileError';
  }
}
