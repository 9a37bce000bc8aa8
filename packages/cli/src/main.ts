#!/usr/bin/env node
/**
 * Entry point of the `overlap` command (`pnpm overlap …` at the repository root runs this file
 * from source). Unexpected errors print one line, never a stack trace, unless OVERLAP_DEBUG=1.
 */
import { once } from 'node:events';
import { EXIT } from './exit-codes.js';
import type { ProgramIo } from './io.js';
import { runProgram } from './program.js';

const io: ProgramIo = {
  out: async (text) => {
    if (!process.stdout.write(text)) await once(process.stdout, 'drain');
  },
  err: (text) => {
    process.stderr.write(text);
  },
  stdin: process.stdin,
  stderrIsTTY: process.stderr.isTTY === true,
};

// A closed pipe downstream (`overlap … | head`) is a normal way to stop reading: exit quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(EXIT.OK);
  throw error;
});

try {
  process.exitCode = await runProgram(process.argv.slice(2), io);
} catch (error) {
  const detail = process.env.OVERLAP_DEBUG === '1' && error instanceof Error ? error.stack : String(error);
  io.err(`overlap: ${detail}\n`);
  process.exitCode = EXIT.FAILURE;
}
