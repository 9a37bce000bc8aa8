export type { CliErrorCode } from './errors.js';
export { CliError } from './errors.js';
export type { ExitCode } from './exit-codes.js';
export { EXIT } from './exit-codes.js';
export type { ProgramIo } from './io.js';
export { buildProgram, CLI_VERSION, runProgram } from './program.js';
