/**
 * The relay's limits (spec/relay-api.md §5): what one request, one set and one key may cost it.
 * Defaults fit a forum of a few dozen labs on one modest machine; an operator raises them with
 * `RelayOptions.limits`.
 */
export interface RelayLimits {
  /** Largest request body, bytes. A 65,536-tag chunk is about 2.2 MB. */
  maxBodyBytes: number;
  /** Largest `maxItemsPerKind` a proposal may set (and so the largest committed set). */
  maxItemsPerSet: number;
  /** Time for a whole request to arrive, milliseconds (a slow-drip body is cut off). */
  requestTimeoutMs: number;
  /** Requests per second and burst per key (token bucket). */
  rate: { perSecond: number; burst: number };
  /**
   * Request body bytes per second and burst per key (token bucket, charged at each body's
   * Content-Length before it is read). An honest lab of a 3 × 1,000,000 session sends ~100 MB per
   * kind in all (its tags, then the two hops it blinds), at a few MB/s at most on this machine.
   */
  bytesPerKey: { perSecond: number; burst: number };
  /**
   * Milliseconds of the relay's threads per second and burst per key (token bucket, charged after
   * the work: opening and checking the key's envelopes, verifying its hop proofs, its share of a
   * challenge's checks); a key in debt waits. An honest lab of a 3 × 1,000,000 session costs the
   * relay ~10 s in all, mostly its hop proofs, in a burst after the challenge.
   */
  cpuMsPerKey: { perSecond: number; burst: number };
  /**
   * Latest deadline a proposal may set, milliseconds after the relay receives it (held chunks do
   * not stay for ever). A proposal without one is due 24 hours after its `created`
   * (DEFAULT_SESSION_MS), which must then fit too.
   */
  maxSessionMs: number;
  /**
   * Longest a proposal may give its labs to join (`joinBy`, or 1 hour after its `created` when it
   * sets none), milliseconds after the relay receives it. A session that some lab has not joined
   * by then is aborted, and the chunks held for it dropped from the session.
   */
  maxJoinWindowMs: number;
  /**
   * After the relay starts, or rebuilds its state after a failed write, a join deadline's abort
   * waits this long (ms): a lab whose join was refused meanwhile (503, or no answer) is sending it
   * again. The audit accepts the abort at any time after the join deadline.
   */
  joinDeadlineGraceMs: number;
  /**
   * Open sessions (not done, not aborted) one lab may have proposed; one more proposal is 403
   * QUOTA_EXCEEDED. Counted by proposer, not by the labs named: naming a lab in sessions cannot
   * use up its quota.
   */
  maxOpenSessionsPerLab: number;
  /**
   * Bytes of tags one lab may have held, in all its open sessions, waiting for their last join
   * (hop-0 chunks uploaded before every lab joined); a chunk over it is 403 QUOTA_EXCEEDED. An
   * honest lab joins first and its sessions' other labs soon after, so it holds little.
   */
  maxHeldBytesPerLab: number;
  /** Most bytes of envelopes in one inbox answer. */
  maxInboxBytes: number;
  /** Longest long poll (`wait`) of the inbox or the session list, milliseconds. */
  maxWaitMs: number;
  /** How far (seconds) a request's `created` and `expires` may be from the relay's clock. */
  clockSkewSeconds: number;
  /** Open connections at once, in all; one more is answered 503 BUSY and closed. */
  maxConnections: number;
  /** Open connections at once from one address, an IPv6 /64 counting as one (loopback included: every local process shares it). */
  maxConnectionsPerAddress: number;
  /**
   * Bytes of request bodies being read at once (each counted at its Content-Length, or at
   * maxBodyBytes when it has none), after their headers were authenticated; one more is 503 BUSY.
   */
  maxBodyBytesInFlight: number;
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxItemsPerSet: 2_000_000,
  requestTimeoutMs: 30_000,
  rate: { perSecond: 200, burst: 400 },
  bytesPerKey: { perSecond: 32 * 1024 * 1024, burst: 512 * 1024 * 1024 },
  cpuMsPerKey: { perSecond: 250, burst: 60_000 },
  maxSessionMs: 3 * 24 * 60 * 60 * 1000,
  maxJoinWindowMs: 6 * 60 * 60 * 1000,
  joinDeadlineGraceMs: 60_000,
  maxOpenSessionsPerLab: 64,
  maxHeldBytesPerLab: 2 * 1024 * 1024 * 1024,
  maxInboxBytes: 8 * 1024 * 1024,
  maxWaitMs: 25_000,
  clockSkewSeconds: 30,
  maxConnections: 1024,
  maxConnectionsPerAddress: 256,
  maxBodyBytesInFlight: 128 * 1024 * 1024,
};

/** The bytes of request bodies being read at once (RelayLimits.maxBodyBytesInFlight). */
export class BodyBudget {
  readonly #limit: number;
  #inFlight = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Reserves `bytes`, or answers false when that would go over the limit. */
  take(bytes: number): boolean {
    if (this.#inFlight + bytes > this.#limit) return false;
    this.#inFlight += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#inFlight -= bytes;
  }
}
