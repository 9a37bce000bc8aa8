/**
 * How a lab's internal job embeds @overlap/client: read the suspects the abuse team exported, take
 * part in a session the forum's labs agreed on, and act on what comes back.
 *
 *   pnpm example examples/embed-sdk.ts --relay URL --key lab.key --log-key VKEY --session ID --input suspects.csv
 *     [--out shared.csv] [--state-dir DIR]
 *
 * Everything a lab must not get wrong is the SDK's: canonical forms, hashing and blinding with a
 * key that never leaves this process, a signed upload per chunk, every receipt checked against
 * the pinned log key, the other labs' sets blinded in turn, and result rows mapped back to this
 * lab's own values. The job's part is the input, the progress, and what to do with the results —
 * here, a CSV for the trust-and-safety queue, one line per shared suspect, written with the SDK's
 * results formats (CSV, JSON lines, STIX 2.1).
 */
import { writeFileSync } from 'node:fs';
import { formatResults, OverlapClient, readIndicatorFile, type SessionResults } from '@overlap/client';
import { BatchPool, readKeyFile } from '@overlap/crypto/node';

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const [relayUrl, keyFile, logKey, session, input] = ['--relay', '--key', '--log-key', '--session', '--input'].map(
  option,
);
if (!relayUrl || !keyFile || !logKey || !session || !input) {
  console.error(
    'usage: embed-sdk.ts --relay URL --key FILE --log-key VKEY --session ID --input FILE [--out FILE] [--state-dir DIR]',
  );
  process.exit(64);
}

// 1. The export: any of CSV, JSON lines, STIX 2.1; rejected records are counted and shown, never dropped silently.
const suspects = await readIndicatorFile(input);
console.log(`${input}: ${suspects.summary.accepted} indicators accepted, ${suspects.summary.rejected} rejected`);
for (const r of suspects.rejected) console.log(`  line ${r.line}: ${r.code}: ${r.message}`);

// 2. The session: this lab's key (0600 file; OVERLAP_KEY_PASSPHRASE if it is encrypted) and the
// log key the forum published, so that a relay that rewrites its log is caught.
const passphrase = process.env.OVERLAP_KEY_PASSPHRASE;
const keys = await readKeyFile(keyFile, passphrase === undefined ? {} : { passphrase });
const pool = new BatchPool(); // hashing and blinding on every core
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort()); // the scheduler may stop the job; state is kept to resume
try {
  const client = await OverlapClient.connect({
    relayUrl,
    keys,
    logKey,
    pool,
    signal: stop.signal,
    stateDir: option('--state-dir') ?? '.overlap/lab', // a crash or a lost connection resumes from here
    onProgress: (event) => {
      if (event.phase === 'uploading' && event.sent === event.total) console.log(`uploaded ${event.total} chunks`);
      if (event.phase === 'done') console.log(event.aborted ? 'session aborted' : 'results received');
    },
  });
  const terms = await client.terms(session);
  console.log(`session ${session}: ${terms.labs.map((l) => l.lab).join(', ')}; kinds ${terms.kinds.join(', ')}`);
  const outcome = await client.run(session, suspects.sets);
  if (outcome.abortReason !== undefined) throw new Error(`the session was aborted: ${outcome.abortReason}`);

  // 3. Act on it: which of our suspects other labs hold too, and who.
  console.log(`${outcome.results.length} of our suspects are held by other labs:`);
  for (const r of outcome.results.slice(0, 10)) console.log(`  ${r.kind} ${r.value} (${(r.labs ?? []).join(', ')})`);
  const out = option('--out');
  if (out) {
    // The SDK's CSV: RFC 4180, and cells that a spreadsheet would run as formulas are guarded.
    const doc: SessionResults = {
      session,
      lab: terms.labs.find((l) => l.keyId === client.keyId)?.lab ?? client.keyId,
      relay: client.info.origin,
      policy: outcome.policy,
      finished: new Date().toISOString(),
      results: outcome.results,
    };
    writeFileSync(out, formatResults(doc, 'csv'), { mode: 0o600 });
    console.log(`written to ${out}`);
  }
} finally {
  keys.dispose();
  await pool.close();
}
