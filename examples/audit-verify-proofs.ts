/**
 * The proof round of a session transcript (spec/protocol.md §5.2), chunk by chunk, with
 * @overlap/audit's own steps: who had to prove each chunk of hop ≥ 1, how many positions σ chose
 * in it, and at which log index its proof verified; then each check of the round with the party it
 * found at fault.
 *
 *   pnpm example examples/audit-verify-proofs.ts TRANSCRIPT [--admin-key HEX]
 *
 * σ is computed from the labs' revealed coins (never from the relay's challenge), the positions
 * from σ and each chunk's logged payload digest, and every proof is verified against the prover's
 * committed key and the logged tags. Prints one line per chunk — owner, kind, hop, first position,
 * prover, positions, verdict — and one per check; exits 1 if any check fails. The complete audit
 * is `verifyTranscript`, or `overlap audit verify`.
 */
import '@overlap/crypto/node'; // the native backend: proofs verify about ten times faster
import { readFileSync } from 'node:fs';
import {
  type AuditVerdict,
  checkChallenge,
  checkCheckpoints,
  checkChosenInputs,
  checkHopProofs,
  checkHops,
  checkMembership,
  checkProofRequest,
  checkReveals,
  checkSessionTerms,
  checkSignatures,
  chunksToProve,
  readTranscript,
} from '@overlap/audit';
import { fromHex } from '@overlap/crypto';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const pinned = args.includes('--admin-key') ? args[args.indexOf('--admin-key') + 1] : undefined;
if (!file) {
  console.error('usage: audit-verify-proofs.ts TRANSCRIPT [--admin-key HEX]');
  process.exit(64);
}

const t = readTranscript(new Uint8Array(readFileSync(file)));
const log = checkCheckpoints(t);
const members = checkMembership(t, pinned ? fromHex(pinned) : t.relay.admin_key, log.anchor).members;
const relay = t.relay.relay_key_id;
const view = { relayKeyId: relay, envelopes: checkSignatures(t, members).opened };
const nameOf = (id: string) => (id === relay ? 'the relay' : (members.get(id)?.lab ?? id));

const terms = checkSessionTerms(view);
const hops = terms.session && checkHops(view, terms.session);
const s = terms.session;
const chunks = hops?.chunks;
if (s === undefined || chunks === undefined) {
  console.error(`the session's terms or hops do not verify: ${(hops?.verdict ?? terms.verdict).detail}`);
  process.exit(1);
}
const verdicts: AuditVerdict[] = [];
const request = checkProofRequest(s, chunks, relay);
verdicts.push(request.verdict);
const reveals = request.request === undefined ? undefined : checkReveals(s, request.request);
if (reveals) verdicts.push(reveals.verdict);
const revealed = reveals?.revealed;
const challenge = revealed && checkChallenge(s, revealed, relay);
const inputs = revealed && checkChosenInputs(s, chunks, revealed.sigma);
if (challenge) verdicts.push(challenge.verdict);
if (inputs) verdicts.push(inputs.verdict);
const proofs =
  challenge?.challengeIndex !== undefined && inputs?.verdict.ok === true
    ? checkHopProofs(s, chunks, inputs.positions ?? new Map(), challenge.challengeIndex)
    : undefined;
if (proofs) verdicts.push(proofs.verdict);

console.log(`proofs: ${s.proposal.proofs ?? 'spot'}, chunks of ${s.proposal.chunkSize ?? 65_536} tags`);
console.log('owner         kind      hop   first  prover        positions  verdict');
for (const place of chunksToProve(s)) {
  const positions = inputs?.positions?.get(place.key)?.length;
  const at = proofs?.proven.get(place.key);
  const verdict = at === undefined ? 'not proven' : `proven at log index ${at}`;
  console.log(
    `${nameOf(place.owner).padEnd(12)}  ${place.kind.padEnd(8)}  ${String(place.hop).padStart(3)}  ${String(place.first).padStart(6)}  ${nameOf(place.prover).padEnd(12)}  ${String(positions ?? '-').padStart(9)}  ${verdict}`,
  );
}
for (const v of verdicts) {
  const mark = v.ok === true ? 'ok  ' : v.ok === false ? 'FAIL' : 'skip';
  const blame = v.culprit === undefined ? '' : ` [at fault: ${nameOf(v.culprit)}]`;
  console.log(`${mark} ${v.name}: ${v.ok === false ? `${v.code}: ` : ''}${v.detail}${blame}`);
}
process.exitCode = verdicts.every((v) => v.ok === true) ? 0 : 1;
