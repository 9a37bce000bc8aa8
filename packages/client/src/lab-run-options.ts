/**
 * What `runLabSession` (lab-runner.ts) takes and answers, and the progress it reports: the
 * options of one lab's run, its outcome, and the events a progress display shows.
 */
import type { BatchPool } from '@overlap/crypto/node';
import type {
  ChainState,
  HashedSets,
  LabResult,
  LabSession,
  LabSessionOptions,
  SessionProposal,
} from '@overlap/protocol';
import type { LabStateStore } from './lab-state-store.js';
import type { RelayClient } from './relay-client.js';

/** What a lab is doing, for progress displays: counts so far and, where known, the total. */
export type LabProgress =
  /**
   * Once, first, when the run picks up a state kept from an earlier process: how many sealed
   * envelopes are still to be sent, the next inbox item, and whether the lab's own sets were sealed.
   */
  | { phase: 'resuming'; unacknowledged: number; inboxAfter: number; started: boolean }
  /**
   * The own sets (`items` values, duplicates included) are hashed and blinded; when some were
   * hashed onto the group ahead (`hashed`), `hashedAhead` of the `distinct` values are only blinded.
   */
  | { phase: 'hashing'; items: number; hashedAhead?: number; distinct?: number }
  | { phase: 'uploading'; sent: number; total: number }
  | { phase: 'blinding'; tasks: number; tags: number }
  | { phase: 'waiting' }
  /** The relay asked for the proofs (revealed), then sent the challenge (`proofs` sent). */
  | { phase: 'proving'; proofs: number }
  | { phase: 'done'; aborted: boolean };

export interface LabRunOptions {
  client: RelayClient;
  /** This lab's key id. */
  me: string;
  secretKey: Uint8Array;
  sessionId: Uint8Array;
  proposal: SessionProposal;
  sets: Record<string, readonly string[]>;
  /** The own sets hashed ahead (hashSets of @overlap/protocol): the run then only blinds them. */
  hashed?: HashedSets;
  /** Signing keys of the session's labs and of the relay. */
  publicKeyOf: (keyId: string) => Uint8Array | undefined;
  relayKeyId: string;
  /**
   * The lab's last envelope in this session before its join, if any: the proposer's
   * session_proposal is seq 0 of its chain (spec/protocol.md §3), so its join is seq 1.
   */
  previous?: ChainState;
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
  /**
   * Keep the store once the session is over (its session key is gone by then), for the caller to
   * erase once it has delivered the results: a process that dies in between resumes from it and
   * gets the results again. Default: erased at the end.
   */
  keepStore?: boolean;
  /** Builds the session engine (default: an honest LabSession); a test harness passes a cheating one. */
  createSession?: (options: LabSessionOptions) => LabSession;
}

export interface LabRun {
  results: ReadonlyMap<string, LabResult[]>;
  abortReason?: string;
}
