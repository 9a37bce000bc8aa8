/**
 * A record of every module a child `node` process resolves, for tests that prove what a program
 * does not load (the audit's consumer, the CLI's lazy commands): a `module.register` resolve hook
 * appends each resolved URL to a file. Start the child with `node ...args ...` and `env`, then read
 * `urls()`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const HOOKS = `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(log, resolved.url + '\\n');
  return resolved;
}
`;
const REGISTER = `import { register } from 'node:module';
register('./hooks.mjs', import.meta.url, { data: { log: process.env.OVERLAP_RESOLVE_LOG } });
`;

export interface ResolveLog {
  /** Node options that install the hook: put them before the script. */
  args: string[];
  env: Record<string, string>;
  /** Every URL resolved so far, in order (with repeats). */
  urls(): string[];
}

/** Writes the hook's two modules and an empty log `NAME.log` into `dir` (one log per child process). */
export function resolveLog(dir: string, name = 'resolved'): ResolveLog {
  const log = join(dir, `${name}.log`);
  writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
  writeFileSync(join(dir, 'register.mjs'), REGISTER);
  writeFileSync(log, '');
  return {
    args: ['--import', pathToFileURL(join(dir, 'register.mjs')).href],
    env: { OVERLAP_RESOLVE_LOG: log },
    urls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
  };
}
