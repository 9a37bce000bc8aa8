/** Runs the `overlap` program in this process with captured output and optional stdin text. */
import { Readable } from 'node:stream';
import { type ExitCode, type ProgramIo, runProgram } from '../src/index.js';

export async function runInProcess(
  argv: string[],
  stdin?: string,
): Promise<{ code: ExitCode; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: ProgramIo = {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
  };
  if (stdin !== undefined) io.stdin = Readable.from([stdin]);
  const code = await runProgram(argv, io);
  return { code, out, err };
}
