export type { ExitCode } from './exit-codes.js';
export { EXIT } from './exit-codes.js';
export type { ProgramIo } from './program.js';
export { buildProgram, CLI_VERSION, runProgram } from './program.js';
