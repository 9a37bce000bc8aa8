/**
 * Exit codes of the `overlap` command, from BSD sysexits(3) where one fits, so that a scheduler
 * can tell a bad invocation from bad data from a failure of the relay.
 */
export const EXIT = {
  OK: 0,
  /** Something failed that is none of the below. */
  FAILURE: 1,
  /** The command line was wrong (EX_USAGE). */
  USAGE: 64,
  /** Input data was wrong (EX_DATAERR). */
  DATA: 65,
  /** An input file could not be read (EX_NOINPUT). */
  NO_INPUT: 66,
  /** Stopped by SIGINT (Ctrl-C): 128 + 2, as a shell reports it. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
