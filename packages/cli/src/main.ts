#!/usr/bin/env node
/**
 * Entry point of the `overlap` command (`pnpm overlap …` at the repository root runs this file
 * from source). Unexpected errors print one line, never a stack trace, unless OVERLAP_DEBUG=1.
 */
import { EXIT } from './exit-codes.js';
import { runProgram } from './program.js';

const io = {
  out: (text: string) => process.stdout.write(text),
  err: (text: string) => process.stderr.write(text),
};

try {
  process.exitCode = await runProgram(process.argv.slice(2), io);
} catch (error) {
  const detail = process.env.OVERLAP_DEBUG === '1' && error instanceof Error ? error.stack : String(error);
  io.err(`overlap: ${detail}\n`);
  process.exitCode = EXIT.FAILURE;
}
