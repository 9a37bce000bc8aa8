/**
 * The one error type of the CLI: what went wrong, said for a person, and which exit code it maps
 * to (exit-codes.ts). Errors from the other packages are turned into one of these at the edge.
 */
import { OverlapError } from '@overlap/errors';
import { EXIT, type ExitCode } from './exit-codes.js';

export type CliErrorCode = 'USAGE' | 'DATA' | 'NO_INPUT' | 'FAILURE' | 'INTERRUPTED';

const EXIT_FOR: Record<CliErrorCode, ExitCode> = {
  USAGE: EXIT.USAGE,
  DATA: EXIT.DATA,
  NO_INPUT: EXIT.NO_INPUT,
  FAILURE: EXIT.FAILURE,
  INTERRUPTED: EXIT.INTERRUPTED,
};

export class CliError extends OverlapError<CliErrorCode> {
  override readonly name = 'CliError';

  get exitCode(): ExitCode {
    return EXIT_FOR[this.code];
  }
}
