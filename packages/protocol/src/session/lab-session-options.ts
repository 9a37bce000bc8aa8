/**
 * What a lab's session engine is given (LabSessionOptions) and what it must keep to resume after
 * its process stops (LabSessionState): spec/protocol.md §5 and §5.2. The state is secret — the
 * key, the coin until revealed, the secret order — and small: the tags a lab must keep for its
 * proofs live in the `inputs` archive, not here.
 */
import type { BackendPreference, BatchRunner } from '@overlap/crypto';
import type { HashedSets } from './hashed-sets.js';
import type { LabResult } from './lab-rows.js';
import type { TagArchive } from './tag-archive.js';

export interface LabSessionOptions {
  /** This lab's key id. */
  me: string;
  /** The session's 16-byte id (every envelope of the session carries it). */
  sessionId: Uint8Array;
  /** Public signing keys of the session's labs, by key id (from their enrollments). */
  publicKeyOf: (keyId: string) => Uint8Array | undefined;
  proposal: unknown;
  /** Canonical values per kind (duplicates are merged). */
  sets: Record<string, readonly string[]>;
  /**
   * The own sets already hashed onto the group (hashSets, hashed-sets.ts), for example while the
   * relay was asked for the terms: a kind whose distinct values are exactly those of `sets` is
   * then only blinded; any other kind is hashed here as usual.
   */
  hashed?: HashedSets;
  /** Where to hash and blind: a BatchPool of @overlap/crypto/node (default: on the calling thread). */
  pool?: BatchRunner;
  /** Crypto backend when no pool is given (default: OVERLAP_CRYPTO_BACKEND or auto). */
  backend?: BackendPreference;
  /**
   * Where the inputs of the blind tasks this lab answers are kept until its proofs (each under the
   * task's place: owner, kind, the hop this lab applies, first). Default: in memory. A lab that
   * resumes passes the archive it kept them in.
   */
  inputs?: TagArchive;
  /**
   * Resume from a state saved by `state()` (a lab process that stopped mid-session): the same
   * session key and coin, the same secret order, the tasks already answered and the results so far.
   * `sets` is then ignored: the order holds the values.
   */
  resume?: LabSessionState;
}

/** What a lab must keep to resume a session: secret (the key, the coin, the order); keep it 0600, erase it at the end. */
export interface LabSessionState {
  /** The session's blinding key (32 bytes), absent once the proofs are sent. A copy: wipe it when stored. */
  key?: Uint8Array;
  /** The lab's coin ρ (32 bytes), secret until it is revealed. */
  coin: Uint8Array;
  /** The lab's values per kind in their secret shuffled order (position i is value i). */
  order: Record<string, string[]>;
  /** Blind tasks already answered, by owner|kind|hop|first. */
  answered: string[];
  /** For each answered task, the payload digest D of its blind_result (hex), by the same id. */
  digests: Record<string, string>;
  /** Whether the hop proofs were sent (the key is erased then). */
  proved: boolean;
  /** Result rows received so far, mapped to values. */
  results: Record<string, LabResult[]>;
}
