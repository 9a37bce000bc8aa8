/**
 * A session run by the real engines (protocol's RelaySession and LabSession) behind a small shell
 * that logs as the relay's does (packages/relay/src/relay.ts, relay-messages.ts): the forum admin's
 * enrollments first, then the proposal and every lab envelope the engine accepts — a message it
 * finds a violation is refused (422) and not logged, unless `refuseViolations` is false, when it
 * goes to `receive` as runSessionInMemory sends it — each followed by the relay's own envelopes for
 * what the engine answered (one per proof_request, challenge or abort, one per result_rows; blind
 * tasks are not logged). The transcript is built with one checkpoint over the whole log.
 *
 * Every key is kept, so a test can forge what a dishonest relay or lab could sign
 * (./transcript-forge.ts), and a lab can be replaced by a cheating LabSession (`createLab`).
 */
import { generateLabKeys, type LabKeys } from '@overlap/crypto';
import {
  type CborValue,
  EnvelopeChain,
  encodeTranscript,
  LabSession,
  type LabSessionOptions,
  type MessageType,
  type Outgoing,
  openEnvelope,
  RelaySession,
  type SessionMessage,
  type Transcript,
} from '@overlap/protocol';
import { logTranscript } from './transcript-forge.js';

export const ORIGIN = 'relay.audit.test';
export const NAMES = ['north', 'south', 'east'] as const;

export interface EngineSessionOptions {
  /** Values per lab name and kind (default: small sets with some shared items). */
  sets?: Record<string, Record<string, string[]>>;
  kinds?: string[];
  policy?: { kind: 'labs' } | { kind: 'count' } | { kind: 'threshold'; t: number };
  proofs?: 'spot' | 'full';
  chunkSize?: number;
  /** A deadline (the shell's clock): if the session stalls, the relay aborts at it naming whom it waits on. */
  deadline?: number;
  /** Builds each lab's engine (default: honest); receives the lab's name too. */
  createLab?: (options: LabSessionOptions, name: string) => LabSession;
  /** Default true: a message the engine calls a violation is refused and not logged, as the relay's shell does. */
  refuseViolations?: boolean;
}

export interface EngineSession {
  transcript: Transcript;
  bytes: Uint8Array;
  relay: RelaySession;
  admin: LabKeys;
  relayKeys: LabKeys;
  labs: { name: string; keys: LabKeys; engine: LabSession }[];
  /** Messages the shell refused, with the engine's reason. */
  refused: { from: string; type: string; reason: string }[];
  keyOf(id: string): Uint8Array | undefined;
  /** A lab's key id by name. */
  id(name: string): string;
}

export const DEFAULT_SETS: Record<string, Record<string, string[]>> = {
  north: {
    email: ['all@x.example', 'ns@x.example', 'ne@x.example', 'n1@x.example', 'n2@x.example'],
    ip: ['203.0.113.1', '203.0.113.2', '198.51.100.7'],
  },
  south: {
    email: ['all@x.example', 'ns@x.example', 'se@x.example', 's1@x.example'],
    ip: ['203.0.113.1', '192.0.2.44'],
  },
  east: {
    email: ['all@x.example', 'ne@x.example', 'se@x.example'],
    ip: ['203.0.113.2', '203.0.113.1', '192.0.2.44', '192.0.2.45'],
  },
};

/** Sets large enough for several chunks of the smallest chunk size (1,024): 2,500 items each, 600 shared. */
export function largeSets(): Record<string, Record<string, string[]>> {
  const shared = Array.from({ length: 600 }, (_, i) => `shared-${i}@x.example`);
  return Object.fromEntries(
    NAMES.map((name) => [
      name,
      { email: [...shared, ...Array.from({ length: 1900 }, (_, i) => `${name}-${i}@x.example`)] },
    ]),
  );
}

export async function runEngineSession(options: EngineSessionOptions = {}): Promise<EngineSession> {
  const sets = options.sets ?? DEFAULT_SETS;
  const kinds = options.kinds ?? ['email', 'ip'];
  const admin = generateLabKeys();
  const relayKeys = generateLabKeys();
  const labKeys = NAMES.map((name) => ({ name, keys: generateLabKeys() }));
  const ids = labKeys.map((l) => l.keys.keyId);
  const keyOf = (id: string) =>
    id === relayKeys.keyId
      ? relayKeys.signing.publicKey
      : id === admin.keyId
        ? admin.signing.publicKey
        : labKeys.find((l) => l.keys.keyId === id)?.keys.signing.publicKey;
  let now = 1_000_000;
  const clock = () => ++now;

  const membershipChain = new EnvelopeChain(new Uint8Array(16), signer(admin));
  const membership = labKeys.map(
    ({ name, keys }) =>
      membershipChain.seal(
        'enrollment',
        {
          lab: name,
          name: `The ${name} lab`,
          signing_key: keys.signing.publicKey,
          sealing_key: keys.sealing.publicKey,
          valid_from: 0,
          valid_until: 4_000_000_000_000,
        },
        clock(),
      ).bytes,
  );

  const sessionId = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const proposal = {
    labs: ids,
    kinds,
    policy: options.policy ?? { kind: 'labs' },
    maxItemsPerKind: 10_000,
    ...(options.proofs && { proofs: options.proofs }),
    ...(options.chunkSize && { chunkSize: options.chunkSize }),
    ...(options.deadline !== undefined && { deadline: options.deadline }),
  };
  const chains = new Map(labKeys.map(({ keys }) => [keys.keyId, new EnvelopeChain(sessionId, signer(keys))]));
  const relayChain = new EnvelopeChain(sessionId, signer(relayKeys));
  const envelopes: Uint8Array[] = [];
  envelopes.push((chains.get(ids[0] as string) as EnvelopeChain).seal('session_proposal', proposal, clock()).bytes);

  const relay = new RelaySession(proposal, { sessionId });
  const createLab = options.createLab ?? ((o: LabSessionOptions) => new LabSession(o));
  const labs = labKeys.map(({ name, keys }) => ({
    name,
    keys,
    engine: createLab({ me: keys.keyId, sessionId, publicKeyOf: keyOf, proposal, sets: sets[name] ?? {} }, name),
  }));
  const engineOf = new Map(labs.map((l) => [l.keys.keyId, l.engine]));
  const refused: EngineSession['refused'] = [];
  const queue: { from: string; message: SessionMessage }[] = [];
  const refuse = options.refuseViolations ?? true;

  /** The relay's envelopes for what the engine answered, as relay-messages.ts groups them. */
  const logRelay = (outgoing: Outgoing[], created?: number) => {
    const sealed = new Set<string>();
    for (const { message } of outgoing) {
      if (message.type === 'blind_task') continue;
      const broadcast = message.type !== 'result_rows';
      if (broadcast && sealed.has(message.type)) continue;
      sealed.add(message.type);
      envelopes.push(relayChain.seal(message.type, message.body as unknown as CborValue, created ?? clock()).bytes);
    }
  };
  const deliver = async (outgoing: Outgoing[]) => {
    for (const { to, message } of outgoing) {
      const lab = engineOf.get(to);
      if (!lab || lab.done || lab.abortReason !== undefined) continue;
      for (const reply of await lab.receive(message)) queue.push({ from: to, message: reply });
    }
  };

  for (const { keys, engine } of labs) {
    for (const message of await engine.start()) queue.push({ from: keys.keyId, message });
  }
  while (queue.length > 0 && relay.state !== 'aborted' && relay.state !== 'done') {
    const { from, message } = queue.shift() as { from: string; message: SessionMessage };
    let violation: string | undefined;
    try {
      violation = refuse ? relay.violation(from, message) : undefined;
    } catch (error) {
      violation = (error as Error).message;
    }
    if (violation !== undefined) {
      refused.push({ from, type: message.type, reason: violation });
      continue;
    }
    const sealed = (chains.get(from) as EnvelopeChain).seal(
      message.type as MessageType,
      message.body as unknown as CborValue,
      clock(),
    );
    envelopes.push(sealed.bytes);
    const outgoing = relay.receive(from, message, { bytes: sealed.bytes, digest: sealed.header.digest });
    logRelay(outgoing);
    await deliver(outgoing);
  }
  if (relay.state !== 'aborted' && relay.state !== 'done' && options.deadline !== undefined) {
    const waiting = relay.waitingOn();
    const outgoing = relay.abort(
      `the session deadline passed; waiting on ${waiting.join(', ') || 'no lab'}`,
      waiting[0],
    );
    logRelay(outgoing, Math.max(options.deadline, clock()));
    await deliver(outgoing);
  }
  for (const { engine } of labs) engine.dispose();

  const transcript = logTranscript({ origin: ORIGIN, relayKeys, admin, session: sessionId }, membership, envelopes);
  return {
    transcript,
    bytes: encodeTranscript(transcript),
    relay,
    admin,
    relayKeys,
    labs,
    refused,
    keyOf,
    id: (name) => (labKeys.find((l) => l.name === name) as { keys: LabKeys }).keys.keyId,
  };
}

function signer(keys: LabKeys) {
  return { keyId: keys.keyId, secretKey: keys.signing.secretKey };
}

/** The opened envelopes of a transcript's session, in log order. */
export function openedEnvelopes(t: Transcript, keyOf: (id: string) => Uint8Array | undefined) {
  return t.envelopes.map((e) => ({ index: e.index, ...openEnvelope(e.envelope, keyOf) }));
}
