/**
 * Runs a whole session in one process, with the relay and every lab as engines: what the tests, the
 * benchmark and the smallest examples use. Every lab message travels as a real signed envelope
 * (a fresh Ed25519 key per lab, a per-lab chain), opened and chain-checked before the relay engine
 * sees it, exactly as the relay's shell does. Every message the relay receives and sends can be
 * observed (for leakage tests), and the time of each phase is measured. The whole flow runs: joins,
 * uploads, hops, the proof request, the reveals, the challenge, the hop proofs, the results
 * (spec/protocol.md §5, §5.2). A test plugs a cheating lab in with `createLab` (LabSession's test
 * seam); a session left waiting (a lab that never reveals) returns with the relay still `proving`.
 * With `answerChecks`, the relay's group checks are made outside the engine, as the relay makes them.
 */
import {
  type BackendPreference,
  type BatchRunner,
  type GroupCheck,
  type GroupCheckAnswer,
  generateSigningKeyPair,
} from '@overlap/crypto';
import type { CborValue } from '../cbor.js';
import { type MessageType, openEnvelope } from '../envelope.js';
import { type ChainState, checkChain, EnvelopeChain } from '../envelope-chain.js';
import { type LabResult, LabSession, type LabSessionOptions } from './lab-session.js';
import type { SessionMessage } from './messages.js';
import { RelaySession } from './relay-session.js';

export interface InMemoryLab {
  keyId: string;
  sets: Record<string, readonly string[]>;
}

export interface InMemoryOptions {
  pool?: BatchRunner;
  backend?: BackendPreference;
  /** Builds each lab's engine (default: an honest LabSession); a test returns a cheating subclass for one lab. */
  createLab?: (options: LabSessionOptions) => LabSession;
  /**
   * Answers the relay's group checks (RelaySession.groupChecks) as the relay's shell does on its
   * worker threads, and gives the answers to `receive`; without it the engine checks on its own.
   */
  answerChecks?: (checks: GroupCheck[]) => GroupCheckAnswer[] | Promise<GroupCheckAnswer[]>;
  /** Called with every message the relay receives (from which lab). */
  onRelayReceives?: (from: string, message: SessionMessage) => void;
  /** Called with every message the relay sends (to which lab). */
  onRelaySends?: (to: string, message: SessionMessage) => void;
}

export interface InMemoryRun {
  results: Map<string, ReadonlyMap<string, LabResult[]>>;
  relay: RelaySession;
  labs: LabSession[];
  /**
   * Milliseconds: labs hashing and uploading their own sets; the blinding hops; the proof round
   * (proof request to the last proof verified); matching and reading the rows.
   */
  phases: { upload: number; hops: number; proofs: number; results: number };
}

export async function runSessionInMemory(
  proposal: unknown,
  labs: readonly InMemoryLab[],
  options: InMemoryOptions = {},
): Promise<InMemoryRun> {
  const sessionId = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const relay = new RelaySession(proposal, { sessionId });
  const createLab = options.createLab ?? ((labOptions: LabSessionOptions) => new LabSession(labOptions));
  const keys = new Map(labs.map((lab) => [lab.keyId, generateSigningKeyPair()]));
  const publicKeyOf = (id: string) => keys.get(id)?.publicKey;
  const sessions = labs.map((lab) =>
    createLab({
      me: lab.keyId,
      sessionId,
      publicKeyOf,
      proposal,
      sets: lab.sets,
      ...(options.pool && { pool: options.pool }),
      ...(options.backend && { backend: options.backend }),
    }),
  );
  const byId = new Map(sessions.map((s) => [s.me, s]));
  // Each lab's outgoing chain, and the relay's view of each lab's chain.
  const sent = new Map(
    labs.map((lab) => [
      lab.keyId,
      new EnvelopeChain(sessionId, {
        keyId: lab.keyId,
        secretKey: (keys.get(lab.keyId) as { secretKey: Uint8Array }).secretKey,
      }),
    ]),
  );
  const seen = new Map<string, ChainState>();
  const queue: { from: string; envelope: Uint8Array }[] = [];
  const seal = (from: string, message: SessionMessage) => {
    const chain = sent.get(from) as EnvelopeChain;
    const envelope = chain.seal(message.type as MessageType, message.body as CborValue, 0);
    queue.push({ from, envelope: envelope.bytes });
  };
  const phases = { upload: 0, hops: 0, proofs: 0, results: 0 };

  let started = performance.now();
  for (const session of sessions) for (const message of await session.start()) seal(session.me, message);
  phases.upload = performance.now() - started;

  started = performance.now();
  let proofsStarted: number | undefined;
  let resultsStarted: number | undefined;
  while (queue.length > 0) {
    const { from, envelope } = queue.shift() as { from: string; envelope: Uint8Array };
    const opened = openEnvelope(envelope, publicKeyOf);
    seen.set(from, checkChain(seen.get(from), opened));
    const message = { type: opened.header.type, body: opened.payload } as SessionMessage;
    options.onRelayReceives?.(from, message);
    const received = { bytes: envelope, digest: opened.header.digest };
    const checks = options.answerChecks && relay.groupChecks(from, message);
    const answers = checks ? await options.answerChecks?.(checks) : undefined;
    for (const { to, message: out } of relay.receive(from, message, received, answers)) {
      options.onRelaySends?.(to, out);
      if (out.type === 'proof_request' && proofsStarted === undefined) proofsStarted = performance.now();
      if (out.type === 'result_rows' && resultsStarted === undefined) resultsStarted = performance.now();
      const lab = byId.get(to);
      if (!lab || lab.done || lab.abortReason !== undefined) continue;
      for (const reply of await lab.receive(out)) seal(to, reply);
    }
    if (relay.state === 'aborted' || relay.state === 'done') break;
  }
  const ended = performance.now();
  phases.hops = (proofsStarted ?? resultsStarted ?? ended) - started;
  phases.proofs = (resultsStarted ?? ended) - (proofsStarted ?? resultsStarted ?? ended);
  phases.results = ended - (resultsStarted ?? ended);
  for (const session of sessions) session.dispose();
  for (const key of keys.values()) key.secretKey.fill(0);
  return { results: new Map(sessions.map((s) => [s.me, s.results])), relay, labs: sessions, phases };
}
