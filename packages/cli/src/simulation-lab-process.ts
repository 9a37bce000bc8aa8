/**
 * A lab process of the simulation (simulation.ts), started before its session exists: it loads
 * what `overlap session run` loads while the simulation starts the relay, enrolls the labs and
 * creates the session, then runs the real `overlap` entry (main.ts) on the arguments it is sent.
 * Loading the packages is most of a process's start-up (~1 s on 2 cores); this way it overlaps the
 * relay's start and the enrollment instead of following them.
 *
 * The conversation is on file descriptor 3, a pipe, so that stdin, stdout and stderr stay what
 * `overlap` has when a person runs it, one JSON object per line:
 *   - this process writes `{"ready":{"boot_ms","load_ms"}}` once the modules are loaded (ms from the
 *     process's start to this module, then to the end of the loading);
 *   - the simulation may write `{"prefetch":{"path","kind"?,"region"?}}`: this process reads that
 *     file at once, as `session run --input PATH` with those options will (prefetchIndicatorFile:
 *     the run takes this reading, so the file is read once), and answers what the simulation needs
 *     to propose the session: `{"input":{"summary","distinct","first_rejected"?}}`, or
 *     `{"input":{"error":MESSAGE}}`;
 *   - the simulation writes `{"args":[...]}`; this process then closes its end.
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
const lines = createInterface({ input: control, crlfDelay: Number.POSITIVE_INFINITY });
// Iterated from now on: lines that arrive while the modules load wait in the iterator's queue.
const incoming = lines[Symbol.asyncIterator]();
await loading;
send({ ready: { boot_ms: Math.round(bootMs), load_ms: Math.round(process.uptime() * 1000 - bootMs) } });
const reports: Promise<void>[] = [];
const args = await readArguments((prefetch) => reports.push(report(prefetch)));
await Promise.all(reports);
// The pipe never keeps this process alive.
control.end();
control.unref();
if (args !== undefined) {
  // main.ts reads its arguments from process.argv, as when `overlap` is run by a person.
  process.argv = [process.argv[0] as string, fileURLToPath(new URL('./main.js', import.meta.url)), ...args];
  await import('./main.js');
}

function send(message: unknown): void {
  control.write(`${JSON.stringify(message)}\n`);
}

/** The `{"args":[...]}` line, or undefined if the pipe closes without one; prefetch lines on the way. */
async function readArguments(onPrefetch: (prefetch: Prefetch) => void): Promise<string[] | undefined> {
  for (let next = await incoming.next(); next.done !== true; next = await incoming.next()) {
    const line = next.value;
    const message = JSON.parse(line) as { args?: unknown; prefetch?: Prefetch };
    if (message.prefetch !== undefined) {
      onPrefetch(message.prefetch);
      continue;
    }
    lines.close();
    if (!Array.isArray(message.args) || !message.args.every((arg) => typeof arg === 'string')) {
      throw new Error('the simulation sent no argument list');
    }
    return message.args;
  }
  return undefined;
}

interface Prefetch {
  path: string;
  kind?: string;
  region?: string;
}

/** Reads the input now and answers its counts (never a value). */
async function report(prefetch: Prefetch): Promise<void> {
  const { prefetchIndicatorFile } = await import('@overlap/client');
  try {
    const input = await prefetchIndicatorFile(prefetch.path, {
      ...(prefetch.kind !== undefined && { kind: prefetch.kind }),
      ...(prefetch.region !== undefined && { region: prefetch.region }),
    });
    const first = input.rejected[0];
    send({
      input: {
        summary: input.summary,
        distinct: Object.fromEntries(Object.entries(input.sets).map(([kind, set]) => [kind, set.length])),
        ...(input.templates !== undefined && { templates: input.templates.length }),
        ...(first !== undefined && { first_rejected: { line: first.line, code: first.code } }),
      },
    });
  } catch (error) {
    send({ input: { error: error instanceof Error ? error.message : String(error) } });
  }
}
