/**
 * A lab ends a session for every lab in it (spec/protocol.md §5: any lab of a session may abort it;
 * it is named in the abort, so denial of service is attributed, not prevented). The abort is the
 * next envelope of this lab's chain in the session (§3: seq and prev), so its place is decided
 * from what the relay holds of the chain, never guessed:
 *
 *   - the relay has nothing of this lab after its proposal (it has not joined): seq 0, or seq 1
 *     after the proposal for the proposer, prev its hash;
 *   - it joined, and this lab's state for the session is here (lab-state-store.ts): the envelopes
 *     still in the outbox go first (the relay answers one it already holds with its receipt), then
 *     the abort continues the chain where the state says it stands;
 *   - it joined and the state is not here: STATE_MISSING (another machine, another state
 *     directory, or a state that was erased).
 *
 * Once the abort is logged the session's state (its key first) is erased: nothing can resume from it.
 * The forum admin cannot abort: it is not a lab of the session, and the relay refuses its envelope
 * (403 NOT_A_SESSION_LAB); a stuck session ends at its deadline.
 */
import { fromHex, sha256 } from '@overlap/crypto';
import { type ChainState, EnvelopeChain, ProtocolError, parseMessage } from '@overlap/protocol';
import { ClientError } from './errors.js';
import type { LabStateStore } from './lab-state-store.js';
import type { RelayClient } from './relay-client.js';
import type { SessionTerms } from './session-terms.js';

export interface AbortRequest {
  relay: RelayClient;
  /** This lab's key id and Ed25519 secret key. */
  me: string;
  secretKey: Uint8Array;
  terms: SessionTerms;
  reason: string;
  /** The session's state directory, when this client keeps one. */
  store: LabStateStore | undefined;
}

export interface AbortDone {
  session: string;
  /** The log index of the abort envelope. */
  index: number;
  /** Whether a state for the session was here, and is now erased. */
  stateErased: boolean;
}

/** Checks an abort's reason as the relay will (spec/protocol.md §4: at most 1024 characters), and that it says something. */
export function checkAbortReason(reason: string): void {
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw new ClientError('BAD_ARGUMENT', 'an abort must say why: the reason is empty');
  }
  try {
    parseMessage('abort', { reason });
  } catch (cause) {
    if (!(cause instanceof ProtocolError)) throw cause;
    throw new ClientError('BAD_ARGUMENT', `the abort's reason: ${cause.message}`, { cause });
  }
}

export async function abortSession(request: AbortRequest): Promise<AbortDone> {
  const { relay, me, terms, store } = request;
  const { session, status } = terms;
  checkAbortReason(request.reason);
  if (!terms.labs.some((lab) => lab.keyId === me)) {
    throw new ClientError('BAD_ARGUMENT', `this lab is not in session ${session}: only its labs may abort it`);
  }
  if (status.state === 'done' || status.state === 'aborted') throw sessionFinished(session, status);
  const hasState = store !== undefined && (await store.exists());
  let previous: ChainState | undefined;
  if (hasState) {
    // The state's chain, whether or not the relay lists this lab as joined yet: its join may be on
    // its way (a run sends it first), and an abort at the join's seq would be another envelope there.
    previous = await sendOutbox(relay, session, store);
  } else if (!status.joined.includes(me)) {
    // Nothing of this lab after its proposal is at the relay, and no state here.
    previous = terms.proposer === me ? { seq: 0, hash: sha256(status.proposal_envelope) } : undefined;
  } else {
    throw stateMissing(session, store);
  }
  const chain = new EnvelopeChain(fromHex(session), { keyId: me, secretKey: request.secretKey }, previous);
  const envelope = chain.seal('abort', { reason: request.reason }, Date.now());
  let index: number;
  try {
    index = (await relay.postEnvelope(session, envelope.bytes)).index;
  } catch (error) {
    throw await closedMeanwhile(error, relay, session);
  }
  const stateErased = store !== undefined && (await store.present());
  if (stateErased) await store.erase();
  return { session, index, stateErased };
}

/**
 * Posts what the outbox holds, in chain order, and answers where the chain then stands (the
 * state's last sealed envelope).
 */
async function sendOutbox(relay: RelayClient, session: string, store: LabStateStore): Promise<ChainState | undefined> {
  const progress = await store.loadProgress();
  for (const seq of await store.outbox(progress.seq)) {
    try {
      await relay.postEnvelope(session, await store.readOutbox(seq));
    } catch (error) {
      throw await closedMeanwhile(error, relay, session);
    }
    await store.dropOutbox(seq);
  }
  return progress.prev === undefined ? undefined : { seq: progress.seq - 1, hash: fromHex(progress.prev) };
}

/** A 409 SESSION_CLOSED: the session ended while this lab was aborting it; said as SESSION_FINISHED. */
async function closedMeanwhile(error: unknown, relay: RelayClient, session: string): Promise<unknown> {
  if (!(error instanceof ClientError) || error.relayCode !== 'SESSION_CLOSED') return error;
  return sessionFinished(session, await relay.sessionStatus(session), error);
}

export function sessionFinished(session: string, status: SessionTerms['status'], cause?: unknown): ClientError {
  const how =
    status.state === 'aborted'
      ? `was aborted${status.abort === undefined ? '' : `: ${status.abort.reason}`}`
      : `is already ${status.state}`;
  return new ClientError('SESSION_FINISHED', `session ${session} ${how}`, cause === undefined ? {} : { cause });
}

export function stateMissing(session: string, store: LabStateStore | undefined): ClientError {
  const where = store === undefined ? 'this client keeps no state (no stateDir)' : `its state is not in ${store.dir}`;
  return new ClientError(
    'STATE_MISSING',
    `this lab already joined session ${session}, and ${where}: resume where it ran, or abort it`,
  );
}
