/**
 * A session of two enrolled labs through a TestRelay, run by the lab SDK (runLabSession) as a lab's
 * process runs it: a proposes (its proposal is the first envelope of its chain), each lab's set is
 * `items` e-mails of which the first `shared` are the same at both, and `truth` is what each must
 * learn. The test decides when each lab starts (`run`).
 */
import { randomBytes } from 'node:crypto';
import { type LabRun, RelayClient, runLabSession } from '@overlap/client';
import type { BatchPool } from '@overlap/crypto/node';
import { type CborValue, type SessionProposal, sealEnvelope } from '@overlap/protocol';
import type { Actor, TestRelay } from '../../packages/relay/test/support/harness.js';

export interface TwoLabSession {
  session: Uint8Array;
  /** Runs `lab`'s side of the session to its end. */
  run: (lab: Actor) => Promise<LabRun>;
  /** The shared values, sorted: each lab's results under `labs`. */
  truth: string[];
}

export async function twoLabSession(
  t: TestRelay,
  [a, b]: [Actor, Actor],
  options: { items: number; chunkSize: number; shared: number; domain: string; pool: BatchPool },
): Promise<TwoLabSession> {
  const { items, chunkSize, shared, domain, pool } = options;
  const proposal: SessionProposal = {
    labs: [a.keyId, b.keyId],
    kinds: ['email'],
    policy: { kind: 'labs' },
    maxItemsPerKind: items,
    chunkSize,
  };
  const session = new Uint8Array(randomBytes(16));
  const proposed = sealEnvelope(
    { type: 'session_proposal', session, seq: 0, created: Date.now(), payload: proposal as CborValue },
    { keyId: a.keyId, secretKey: a.keys.signing.secretKey },
  );
  const clientOf = (lab: Actor) =>
    new RelayClient({ url: t.url, signer: { keyId: lab.keyId, secretKey: lab.keys.signing.secretKey } });
  await clientOf(a).createSession(proposed.bytes);
  const keys = new Map([a, b].map((lab) => [lab.keyId, lab.keys.signing.publicKey]));
  keys.set(t.relay.relayKeyId, t.relay.core.identity.publicKey);
  const value = (lab: string, i: number) => (i < shared ? `shared${i}@${domain}` : `${lab}${i}@${domain}`);
  const run = (lab: Actor) =>
    runLabSession({
      client: clientOf(lab),
      me: lab.keyId,
      secretKey: lab.keys.signing.secretKey,
      sessionId: session,
      proposal,
      sets: { email: Array.from({ length: items }, (_, i) => value(lab.keyId, i)) },
      publicKeyOf: (id) => keys.get(id),
      relayKeyId: t.relay.relayKeyId,
      ...(lab === a && { previous: { seq: 0, hash: proposed.hash } }),
      pool,
      pollWaitMs: 1_000,
    });
  const truth = Array.from({ length: shared }, (_, i) => `shared${i}@${domain}`).sort();
  return { session, run, truth };
}
