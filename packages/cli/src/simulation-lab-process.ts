/**
 * A lab process of the simulation (simulation.ts), started before its session exists: it loads
 * what `overlap session run` loads while the simulation starts the relay, enrolls the labs and
 * creates the session, then runs the real `overlap` entry (main.ts) on the arguments it is sent.
 * Loading the packages is most of a process's start-up (~1 s on 2 cores); this way it overlaps the
 * relay's start and the enrollment instead of following them.
 *
 * The conversation is on file descriptor 3, a pipe, so that stdin, stdout and stderr stay what
 * `overlap` has when a person runs it:
 *   - this process writes one JSON line once the modules are loaded: `{"ready":{"boot_ms","load_ms"}}`
 *     (ms from the process's start to this module, then to the end of the loading);
 *   - the simulation writes one JSON line, `{"args":[...]}`; this process then closes its end.
 * If the pipe closes without arguments (the simulation ended first, for example on a bad input),
 * this process exits 0 without doing anything.
 */
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CONTROL_FD = 3;
const bootMs = process.uptime() * 1000;

// The modules `overlap session run` uses, in the module cache before its arguments arrive.
const loading = Promise.all([import('./program.js'), import('./commands/session.js'), import('./config-file.js')]);
// Awaited below; a failure to load is reported there, not as an unhandled rejection meanwhile.
loading.catch(() => {});

const control = new Socket({ fd: CONTROL_FD, readable: true, writable: true });
const arrival = readArguments();
await loading;
control.write(
  `${JSON.stringify({ ready: { boot_ms: Math.round(bootMs), load_ms: Math.round(process.uptime() * 1000 - bootMs) } })}\n`,
);
const args = await arrival;
// The ready line goes out before the pipe closes; the pipe never keeps this process alive.
control.end();
control.unref();
if (args !== undefined) {
  // main.ts reads its arguments from process.argv, as when `overlap` is run by a person.
  process.argv = [process.argv[0] as string, fileURLToPath(new URL('./main.js', import.meta.url)), ...args];
  await import('./main.js');
}

/** The `{"args":[...]}` line, or undefined if the pipe closes without one. */
async function readArguments(): Promise<string[] | undefined> {
  const lines = createInterface({ input: control, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    lines.close();
    const message = JSON.parse(line) as { args?: unknown };
    if (!Array.isArray(message.args) || !message.args.every((arg) => typeof arg === 'string')) {
      throw new Error('the simulation sent no argument list');
    }
    return message.args;
  }
  return undefined;
}
