/**
 * A cheating lab as a process of its own: the real SDK (OverlapClient over HTTP, receipts and log
 * consistency checked, state on disk) with its engine replaced by one of test/support/attacks.ts.
 *
 *   node --import tsx --conditions=@overlap/source test/support/cheating-lab-process.ts \
 *     RELAY_URL LOG_VKEY KEY_FILE SESSION INPUT_FILE STATE_DIR ATTACK
 *
 * Prints one JSON line ({ results, abortReason } or { error, code }); exits 0 with results, 2 when
 * the session was aborted, 1 on an error (a refused join, for instance).
 */
import { readFileSync } from 'node:fs';
import { OverlapClient } from '@overlap/client';
import { readKeyFile } from '@overlap/crypto/node';
import { ATTACKS } from './attacks.js';

const [relayUrl, logKey, keyFile, session, inputFile, stateDir, attackName] = process.argv.slice(2) as string[];
const attack = ATTACKS[attackName as string];
if (!attack) {
  process.stdout.write(`${JSON.stringify({ error: `no attack ${attackName}` })}\n`);
  process.exit(1);
}
try {
  const keys = await readKeyFile(keyFile as string);
  const client = await OverlapClient.connect({
    relayUrl: relayUrl as string,
    keys,
    logKey: logKey as string,
    stateDir: stateDir as string,
    retry: { attempts: 5, baseDelayMs: 50, maxDelayMs: 500 },
    createSession: attack.make,
  });
  const values = readFileSync(inputFile as string, 'utf8')
    .split('\n')
    .filter(Boolean);
  const outcome = await client.run(session as string, { email: values });
  process.stdout.write(`${JSON.stringify({ results: outcome.results.length, abortReason: outcome.abortReason })}\n`);
  process.exit(outcome.abortReason === undefined ? 0 : 2);
} catch (error) {
  const { message, code } = error as { message: string; code?: string };
  process.stdout.write(`${JSON.stringify({ error: message, code })}\n`);
  process.exit(1);
}
