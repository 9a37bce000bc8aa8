/**
 * `pnpm bench <name>`: runs one benchmark script and prints its figures. Benchmarks measure this
 * machine; they are never part of the test suite (no timed tests).
 */
const BENCHMARKS: Record<string, () => Promise<unknown>> = {
  agents: () => import('./agents.js'),
  crypto: () => import('./crypto.js'),
  e2e: () => import('./e2e.js'),
  indicators: () => import('./indicators.js'),
  'prompt-templates': () => import('./prompt-templates.js'),
  relay: () => import('./relay.js'),
  'relay-abuse': () => import('./relay-abuse.js'),
  'relay-crash': () => import('./relay-crash.js'),
  'relay-load': () => import('./relay-load.js'),
  session: () => import('./session.js'),
  'small-exchange': () => import('./small-exchange.js'),
};

const name = process.argv[2];
if (name === undefined || !(name in BENCHMARKS)) {
  process.stderr.write(`usage: pnpm bench <${Object.keys(BENCHMARKS).join('|')}>\n`);
  process.exitCode = 64;
} else {
  await BENCHMARKS[name]?.();
}
