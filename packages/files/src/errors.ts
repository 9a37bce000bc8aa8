/**
 * The one error type of @overlap/files. Callers branch on `code`, never on the message; `details`
 * names the path and, for a failure of the file system, its errno code (ENOSPC, EACCES, …).
 */
import { OverlapError } from '@overlap/errors';

export type FilesErrorCode =
  /** The file exists and replacing it was not asked for: it is left as it was. */
  | 'EXISTS'
  /** The file system refused a step (open, write, sync, link, rename, mkdir, chmod): see `details.errno`. */
  | 'WRITE_FAILED'
  /** Another live process holds the lock (or the lock file is not one this program wrote). */
  | 'LOCKED';

export interface FilesErrorDetails {
  readonly path: string;
  readonly errno?: string;
}

export class FilesError extends OverlapError<FilesErrorCode, FilesErrorDetails> {
  override readonly name = 'FilesError';
}
