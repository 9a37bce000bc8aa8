/**
 * One lab's side of a session over the relay's HTTP API (spec/relay-api.md): the LabSession engine of @overlap/protocol, its messages sealed in a per-lab envelope
 * chain (seq, prev) and posted with RelayClient, and the lab's inbox read until the session is done
 * or aborted.
 *
 * Resumable (spec §4): the chain lives in memory, every sealed envelope stays queued until the relay
 * gave its receipt, and the inbox is read again from the last item handled. If the relay restarts
 * mid-way, the client's retries re-post the same bytes (the relay answers them with the original
 * receipt) and the loop carries on.
 *
 * What the relay hands out is checked as a lab would: a blind task's source envelope must open under
 * the previous hop's key (LabSession checks the rest of its provenance), and result rows and aborts
 * must be envelopes of this session signed by the relay's key.
 */
import { type BatchPool, equalBytes, fromHex, toHex } from '@overlap/crypto';
import {
  type CborValue,
  type ChainState,
  decodeDeterministic,
  type LabResult,
  LabSession,
  type MessageType,
  parseMessage,
  type SessionMessage,
  type SessionProposal,
  StreamedResultRows,
  sealEnvelope,
  type VerifiedEnvelope,
  verifyEnvelope,
} from '@overlap/protocol';
import type { LabStateStore } from './lab-state-store.js';
import type { RelayClient } from './relay-client.js';
import type { InboxItem } from './responses.js';

/** What the runner hands LabSession: a message, or result rows to read one row at a time. */
type LabInput = Parameters<LabSession['receive']>[0];

/** What a lab is doing, for progress displays: counts so far and, where known, the total. */
export type LabProgress =
  | { phase: 'hashing'; items: number }
  | { phase: 'uploading'; sent: number; total: number }
  | { phase: 'blinding'; tasks: number; tags: number }
  | { phase: 'waiting' }
  | { phase: 'done'; aborted: boolean };

export interface LabRunOptions {
  client: RelayClient;
  /** This lab's key id. */
  me: string;
  secretKey: Uint8Array;
  sessionId: Uint8Array;
  proposal: SessionProposal;
  sets: Record<string, readonly string[]>;
  /** Signing keys of the session's labs and of the relay. */
  publicKeyOf: (keyId: string) => Uint8Array | undefined;
  relayKeyId: string;
  /**
   * The lab's last envelope in this session before its join, if any: the proposer's
   * session_proposal is seq 0 of its chain (spec/protocol.md §3), so its join is seq 1.
   */
  previous?: ChainState;
  chunkSize?: number;
  /** Worker pool for hashing and blinding (default: on the calling thread). */
  pool?: BatchPool;
  onProgress?: (event: LabProgress) => void;
  /** Long-poll of each inbox read, ms (default 2000). */
  pollWaitMs?: number;
  signal?: AbortSignal;
  /**
   * Where to keep this session's state so that a new process resumes after this one dies
   * (lab-state-store.ts). Without it, the state lives only in memory.
   */
  store?: LabStateStore;
}

export interface LabRun {
  results: ReadonlyMap<string, LabResult[]>;
  abortReason?: string;
}

export async function runLabSession(options: LabRunOptions): Promise<LabRun> {
  const { client, me, sessionId, publicKeyOf, relayKeyId, signal } = options;
  const sessionHex = toHex(sessionId);
  const store = options.store;
  const resumed = store !== undefined && (await store.exists()) ? await store.loadProgress() : undefined;
  const secrets = resumed && store ? await store.loadSecrets() : undefined;
  const lab = new LabSession({
    me,
    sessionId,
    publicKeyOf,
    proposal: options.proposal,
    sets: options.sets,
    ...(options.chunkSize !== undefined && { chunkSize: options.chunkSize }),
    ...(options.pool && { pool: options.pool }),
    ...(resumed &&
      secrets && {
        // Results come back below, from the result rows envelopes the store kept.
        resume: { key: secrets.key, order: secrets.order, answered: resumed.answered, results: {} },
      }),
  });
  secrets?.key.fill(0);
  let chain: { seq: number; prev?: Uint8Array } = resumed
    ? { seq: resumed.seq, ...(resumed.prev !== undefined && { prev: fromHex(resumed.prev) }) }
    : options.previous === undefined
      ? { seq: 0 }
      : { seq: options.previous.seq + 1, prev: options.previous.hash };
  /**
   * Sealed envelopes without a receipt yet, in chain order. With a store, an envelope's bytes are
   * dropped from memory once the outbox holds them and read back to be sent: a million-item set's
   * chunks are not held twice.
   */
  const unacknowledged: { seq: number; bytes?: Uint8Array }[] =
    resumed && store ? (await store.outbox(resumed.seq)).map((seq) => ({ seq })) : [];
  let started = resumed?.started ?? false;
  let after = resumed?.inboxAfter ?? 0;
  if (store && !resumed) {
    const state = lab.state();
    await store.saveSecrets(state.key, state.order);
    state.key.fill(0);
  }
  /** Records where the lab is, after the outbox holds everything sealed so far. */
  const checkpoint = async (): Promise<void> => {
    if (!store) return;
    await store.saveProgress({
      seq: chain.seq,
      ...(chain.prev && { prev: toHex(chain.prev) }),
      started,
      inboxAfter: after,
      answered: lab.answered,
    });
  };
  /** An abort this driver raised itself (the relay handed out something a lab must refuse). */
  let ownAbort: string | undefined;

  const seal = (message: SessionMessage): { seq: number; bytes?: Uint8Array } => {
    const input = {
      type: message.type as MessageType,
      session: sessionId,
      seq: chain.seq,
      created: Date.now(),
      payload: message.body as CborValue,
    };
    const envelope = sealEnvelope(chain.prev ? { ...input, prev: chain.prev } : input, {
      keyId: me,
      secretKey: options.secretKey,
    });
    const sealed = { seq: chain.seq, bytes: envelope.bytes };
    unacknowledged.push(sealed);
    chain = { seq: chain.seq + 1, prev: envelope.hash };
    return sealed;
  };

  /** Sequence numbers below this are in the outbox already (written, or loaded from it on resume). */
  let outboxUpTo = unacknowledged.reduce((top, { seq }) => Math.max(top, seq + 1), 0);
  /** Moves what was sealed and not yet stored into the outbox (and out of memory). */
  const toOutbox = async (): Promise<void> => {
    if (!store) return;
    for (const entry of unacknowledged) {
      if (entry.seq < outboxUpTo || entry.bytes === undefined) continue;
      await store.putOutbox(entry.seq, entry.bytes);
      delete entry.bytes;
    }
    outboxUpTo = chain.seq;
  };
  /** Writes what was just sealed to the outbox, then records the progress (write-ahead). */
  const persist = async (): Promise<void> => {
    await toOutbox();
    await checkpoint();
  };

  const flush = async (onSent?: () => void): Promise<void> => {
    while (unacknowledged.length > 0) {
      signal?.throwIfAborted();
      const next = unacknowledged[0] as { seq: number; bytes?: Uint8Array };
      await client.postEnvelope(sessionHex, next.bytes ?? (await (store as LabStateStore).readOutbox(next.seq)));
      unacknowledged.shift();
      await store?.dropOutbox(next.seq);
      onSent?.();
    }
  };

  const refuse = (reason: string): void => {
    ownAbort = reason;
    seal({ type: 'abort', body: { reason } });
  };

  /** The message an inbox item stands for, or undefined (after refusing it) when it is not acceptable. */
  const messageOf = (item: InboxItem): LabInput | undefined => {
    // The payload is decoded below as its type needs: result rows one row at a time.
    let verified: VerifiedEnvelope;
    try {
      verified = verifyEnvelope(item.envelope, publicKeyOf);
    } catch (error) {
      refuse(`inbox item ${item.n}: its envelope does not open (${(error as Error).message})`);
      return undefined;
    }
    const { header, payloadBytes } = verified;
    if (!equalBytes(header.session, sessionId)) {
      refuse(`inbox item ${item.n}: an envelope of another session`);
      return undefined;
    }
    try {
      if (item.type === 'blind_task') {
        if (item.hop === undefined) throw new Error('a blind task without a hop');
        // The source's sender, type and place are LabSession's to check (provenance).
        const chunk = parseMessage('tag_chunk', decodeDeterministic(payloadBytes));
        return { type: 'blind_task', body: { ...chunk, hop: item.hop, source: item.envelope } };
      }
      if (header.sender !== relayKeyId || header.type !== item.type) {
        throw new Error(`a ${header.type} from ${header.sender} where a ${item.type} of the relay belongs`);
      }
      // Result rows (~20 MB for a million-item set sharing 30%) go to LabSession to be read and
      // checked one row at a time.
      return item.type === 'result_rows'
        ? { type: 'result_rows', body: new StreamedResultRows(payloadBytes) }
        : { type: 'abort', body: parseMessage('abort', decodeDeterministic(payloadBytes)) };
    } catch (error) {
      refuse(`inbox item ${item.n}: ${(error as Error).message}`);
      return undefined;
    }
  };

  const finished = () => lab.done || lab.abortReason !== undefined || ownAbort !== undefined;

  try {
    const progress = options.onProgress ?? (() => {});
    if (store && resumed) {
      // Result rows already handled: the store kept the relay's envelopes, not their decoding.
      // An envelope kept for an item that progress had not yet moved past comes again from the inbox.
      for (const kept of await store.results()) {
        if (kept.n >= after) continue;
        const message = messageOf({ n: kept.n, type: 'result_rows', index: -1, envelope: kept.envelope });
        if (message !== undefined) await lab.receive(message);
      }
    }
    if (!started) {
      progress({ phase: 'hashing', items: Object.values(options.sets).reduce((n, set) => n + set.length, 0) });
      // Each chunk goes to the outbox as it fills (see `unacknowledged`); progress records them
      // all at once, so a lab that dies half-way through starts its session side afresh.
      for await (const message of lab.opening()) {
        seal(message);
        await toOutbox();
      }
      started = true;
      await persist();
    }
    const total = unacknowledged.length;
    progress({ phase: 'uploading', sent: 0, total });
    await flush(() => progress({ phase: 'uploading', sent: total - unacknowledged.length, total }));
    progress({ phase: 'waiting' });
    let tasks = 0;
    let tags = 0;
    while (!finished()) {
      signal?.throwIfAborted();
      const inbox = await client.inbox(sessionHex, after, options.pollWaitMs ?? 2000);
      for (const item of inbox.items) {
        if (item.n < after) continue; // already handled (an answer repeated after a restart)
        if (item.n > after) throw new Error(`inbox item ${item.n} arrived before item ${after}`);
        const message = messageOf(item);
        if (message?.type === 'result_rows') await store?.putResult(item.n, item.envelope);
        if (message !== undefined) for (const reply of await lab.receive(message)) seal(reply);
        after = item.n + 1;
        await persist();
        await flush();
        if (message?.type === 'blind_task') {
          tasks++;
          tags += message.body.tags.length / 32;
          progress({ phase: 'blinding', tasks, tags });
        }
        if (finished()) break;
      }
      if (inbox.items.length === 0 && (inbox.state === 'done' || inbox.state === 'aborted') && !finished()) {
        // The relay closed the session and has nothing more for this lab.
        ownAbort = `the relay reports the session ${inbox.state}, but this lab has no results`;
      }
    }
    await flush();
    // The session is over for this lab: its key and state go (results are the caller's to keep).
    await store?.erase();
  } finally {
    lab.dispose();
  }
  const abortReason = lab.abortReason ?? ownAbort;
  options.onProgress?.({ phase: 'done', aborted: abortReason !== undefined });
  return abortReason === undefined ? { results: lab.results } : { results: lab.results, abortReason };
}
