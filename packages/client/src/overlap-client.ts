/**
 * The lab SDK's front door: from a lab's key and a relay URL to the suspects it shares with other
 * labs. `OverlapClient` checks the lab's enrollment, reads membership as the admin signed it,
 * proposes or inspects sessions (the proposal's signature is checked, never taken from the relay's
 * word), and runs the lab's whole side of a session with `runLabSession`: hashing and blinding on a
 * worker pool, chunked uploads whose receipts are all verified against the log's key and kept
 * consistent, the blinding hops, and the signed result rows mapped back to the lab's own values and
 * to other labs' names.
 */

import { join } from 'node:path';
import { keyId as keyIdOf, type LabKeys, toHex } from '@overlap/crypto';
// A lab's process runs on Node.js's crypto: the native backend, node:crypto's SHA-256, worker threads.
import '@overlap/crypto/node';
import type { BatchPool } from '@overlap/crypto/node';
import {
  type CborValue,
  type Enrollment,
  type HashedSets,
  type MembershipList,
  openEnvelope,
  parseMessage,
  parseRevealPolicy,
  parseRevealPolicyText,
  type RelayInfo,
  type RevealPolicy,
  type SessionProposal,
  sealEnvelope,
} from '@overlap/protocol';
import { ClientError } from './errors.js';
import { type LabProgress, type LabRunOptions, runLabSession } from './lab-runner.js';
import { LabStateStore } from './lab-state-store.js';
import type { RelayClient } from './relay-client.js';
import type { RetryOptions } from './retry.js';
import { type AbortDone, abortSession, checkAbortReason, sessionFinished, stateMissing } from './session-abort.js';
import {
  type Member,
  type ProofMode,
  type SessionSummary,
  type SessionTerms,
  summaryOf,
  termsFromStatus,
} from './session-terms.js';
import { connectTrustedRelay } from './trusted-relay.js';

export type { AbortDone } from './session-abort.js';
export type { Member, SessionSummary, SessionTerms } from './session-terms.js';

export interface OverlapClientOptions {
  relayUrl: string;
  keys: LabKeys;
  /**
   * The relay log's verifier key (C2SP vkey), as the forum publishes it. Without it the key the
   * relay itself announces is used (trust on first use): `logKeyPinned` tells which.
   */
  logKey?: string;
  /** The forum admin's Ed25519 public key, pinned; without it the relay's `admin_key` is used. */
  adminKey?: Uint8Array;
  /**
   * Where this lab remembers each relay's trust roots and the last checkpoint of its log it
   * verified, across runs and processes (trust-store.ts; the CLI's is `<state dir>/trust`). With
   * it, keys not given are pinned on first use (a warning in `trustWarnings`) and a relay that
   * later announces others is refused (`TRUST_ROOT_MISMATCH`); every checkpoint is proven
   * consistent with the remembered one (`LOG_INCONSISTENT`, with evidence, otherwise).
   */
  trustDir?: string;
  /** With `trustDir`: refuse a relay whose keys are neither given nor pinned, instead of pinning them. */
  requirePinnedRoots?: boolean;
  /**
   * The witnesses this lab trusts (their cosigner verifier keys, C2SP vkeys of type 0x04) and how
   * many of them must have cosigned a checkpoint before the lab acts on result rows or an abort it
   * covers (default: all of them). Without it, the relay's signed checkpoint is enough.
   */
  witnesses?: { keys: readonly string[]; quorum?: number; waitMs?: number };
  pool?: BatchPool;
  retry?: RetryOptions;
  signal?: AbortSignal;
  onProgress?: (event: LabProgress) => void;
  /**
   * A directory for each running session's state (`<stateDir>/<session>.state/`, 0700): with it, a
   * lab process that dies mid-session resumes there when `run` is called again; the state (and
   * the session key in it) is erased when the session ends.
   */
  stateDir?: string;
  /**
   * Builds each session's engine (default: an honest LabSession). A test seam: a harness runs a
   * cheating subclass through the real SDK; production code never passes it.
   */
  createSession?: LabRunOptions['createSession'];
}

export interface SharedIndicator {
  kind: string;
  value: string;
  /** `labs` policy: the other labs (by name) that hold it, sorted. */
  labs?: string[];
  /** `count` policy: how many other labs hold it. */
  count?: number;
  /** A prompt template's result (`value` is its text): its bands matched, from templateResults. */
  template?: TemplateMatch;
}

/**
 * What a lab learns of one of its prompt templates (spec/indicators.md §2, `prompt_template`,
 * "Results"): under `labs`, per other lab, how many of the template's b bands that lab holds and
 * the Jaccard similarity that implies; under `count` and `threshold`, the number of its bands
 * revealed (held by some other lab; held by at least t labs) and its Jaccard similarity.
 */
export interface TemplateMatch {
  /** b: the bands the template was sent as. */
  bands: number;
  /** How many of the lab's prompts the template stands for. */
  prompts: number;
  /** Bands matched: per other lab (`labs`), or in all (`count`, `threshold`). */
  matched: Record<string, number> | number;
  /** The Jaccard similarity `matched` implies, (matched / b)^(1/r), in the same shape. */
  jaccard: Record<string, number> | number;
}

export interface SessionOutcome {
  session: string;
  policy: RevealPolicy;
  /** Shared indicators, sorted by kind then value; empty when the session was aborted. */
  results: SharedIndicator[];
  abortReason?: string;
}

/** The relay's answers to a key that is not (or no longer) enrolled (spec/errors.md §2). */
const NOT_A_MEMBER = new Set(['UNKNOWN_KEY', 'KEY_EXPIRED', 'KEY_REVOKED']);

export class OverlapClient {
  readonly relay: RelayClient;
  readonly info: RelayInfo;
  readonly keys: LabKeys;
  /** Whether the log key was given by the caller or pinned before (true), or taken from the relay this time (false). */
  readonly logKeyPinned: boolean;
  /** What the lab should be told about its trust roots this run (a first use, a re-pin). */
  readonly trustWarnings: readonly string[];
  readonly #adminKey: Uint8Array;
  readonly #options: OverlapClientOptions;

  private constructor(
    options: OverlapClientOptions,
    relay: RelayClient,
    info: RelayInfo,
    trust: { adminKey: Uint8Array; logKeyPinned: boolean; warnings: readonly string[] },
  ) {
    this.#options = options;
    this.relay = relay;
    this.info = info;
    this.keys = options.keys;
    this.logKeyPinned = trust.logKeyPinned;
    this.trustWarnings = trust.warnings;
    this.#adminKey = trust.adminKey;
  }

  /** Connects: reads the relay's identity and checks it against what the caller pinned. */
  static async connect(options: OverlapClientOptions): Promise<OverlapClient> {
    const trusted = await connectTrustedRelay({
      ...options,
      signer: { keyId: options.keys.keyId, secretKey: options.keys.signing.secretKey },
    });
    return new OverlapClient(options, trusted.relay, trusted.info, trusted);
  }

  get keyId(): string {
    return this.keys.keyId;
  }

  /** Every enrolled lab, from the admin-signed envelopes (each signature checked here). */
  async members(): Promise<Member[]> {
    let entries: MembershipList['entries'];
    try {
      ({ entries } = await this.relay.membership());
    } catch (error) {
      // The relay shows its membership to enrolled keys only: refused our key, we are not one.
      if (
        error instanceof ClientError &&
        (error.status === 401 || error.status === 403) &&
        NOT_A_MEMBER.has(error.relayCode ?? '')
      ) {
        throw new ClientError(
          'NOT_ENROLLED',
          `key ${this.keyId} is not enrolled at ${this.relay.url}: ${error.message}`,
          {
            cause: error,
            ...(error.status !== undefined && { status: error.status }),
            ...(error.relayCode !== undefined && { relayCode: error.relayCode }),
          },
        );
      }
      throw error;
    }
    const members = new Map<string, Member>();
    for (const { envelope, index } of entries) {
      const opened = openEnvelope(envelope, () => this.#adminKey);
      // Signed by the admin is not enough: it must be in the log everyone sees, at that index.
      await this.relay.proveIncluded(index, envelope, opened.header.type);
      if (opened.header.type === 'enrollment') {
        const e = parseMessage('enrollment', opened.payload) as Enrollment;
        const keyId = keyIdOf(e.signing_key);
        members.set(keyId, {
          keyId,
          lab: e.lab,
          name: e.name,
          signingKey: e.signing_key,
          revoked: false,
          validUntil: e.valid_until,
        });
      } else if (opened.header.type === 'revocation') {
        const member = members.get(parseMessage('revocation', opened.payload).key);
        if (member) member.revoked = true;
      }
    }
    return [...members.values()];
  }

  /** This lab's own membership, or a NOT_ENROLLED error. */
  async me(): Promise<Member> {
    const me = (await this.members()).find((m) => m.keyId === this.keyId);
    if (!me) throw new ClientError('NOT_ENROLLED', `key ${this.keyId} is not enrolled at ${this.relay.url}`);
    if (me.revoked) throw new ClientError('NOT_ENROLLED', `key ${this.keyId} is revoked at ${this.relay.url}`);
    return me;
  }

  /**
   * Proposes a session among `labs` (lab names or key ids; this lab must be one). Answers its id.
   * `proofs` and `chunkSize` are written into the proposal only when given (the protocol's
   * defaults: `spot`, 65,536).
   */
  async createSession(terms: {
    labs: string[];
    kinds: string[];
    policy: RevealPolicy | string;
    maxItemsPerKind: number;
    deadline?: number;
    /** By when every lab must have joined (default: 1 hour after the proposal, or the deadline if sooner). */
    joinBy?: number;
    proofs?: ProofMode;
    chunkSize?: number;
  }): Promise<string> {
    const policy =
      typeof terms.policy === 'string' ? parseRevealPolicyText(terms.policy) : parseRevealPolicy(terms.policy);
    // The protocol allows it (t ≤ 1024 whatever the labs), and no item could ever be revealed.
    if (policy.kind === 'threshold' && policy.t > terms.labs.length) {
      throw new ClientError(
        'BAD_ARGUMENT',
        `reveal policy threshold:${policy.t} asks for items ${policy.t} labs hold, and the session has ${terms.labs.length} labs: nothing could ever be revealed`,
      );
    }
    await this.me();
    const members = await this.members();
    const labs = terms.labs.map((name) => {
      const member = members.find((m) => (m.lab === name || m.keyId === name) && !m.revoked);
      if (!member) throw new ClientError('BAD_ARGUMENT', `no enrolled lab ${name}`);
      return member.keyId;
    });
    if (!labs.includes(this.keyId)) throw new ClientError('BAD_ARGUMENT', 'a lab may only propose a session it is in');
    const proposal: SessionProposal = {
      labs,
      kinds: terms.kinds,
      policy,
      maxItemsPerKind: terms.maxItemsPerKind,
      ...(terms.deadline !== undefined && { deadline: terms.deadline }),
      ...(terms.joinBy !== undefined && { joinBy: terms.joinBy }),
      ...(terms.proofs !== undefined && { proofs: terms.proofs }),
      ...(terms.chunkSize !== undefined && { chunkSize: terms.chunkSize }),
    };
    // Checked here as the relay will: a bad chunk size is the caller's mistake, not the relay's refusal.
    try {
      parseMessage('session_proposal', proposal);
    } catch (cause) {
      throw new ClientError('BAD_ARGUMENT', `the session's terms: ${(cause as Error).message}`, { cause });
    }
    const session = globalThis.crypto.getRandomValues(new Uint8Array(16));
    const envelope = sealEnvelope(
      { type: 'session_proposal', session, seq: 0, created: Date.now(), payload: proposal as CborValue },
      { keyId: this.keyId, secretKey: this.keys.signing.secretKey },
    );
    await this.relay.createSession(envelope.bytes);
    return toHex(session);
  }

  /** A session's terms, from its signed proposal (checked against the proposer's enrolled key). */
  async terms(session: string): Promise<SessionTerms> {
    const [status, members] = await Promise.all([this.relay.sessionStatus(session), this.members()]);
    const terms = termsFromStatus(session, status, new Map(members.map((m) => [m.keyId, m])));
    // The proposal a lab joins must be the one in the log, at the index the relay gives.
    await this.relay.proveIncluded(status.proposal, status.proposal_envelope, 'session_proposal');
    return terms;
  }

  /**
   * The sessions naming this lab (`GET /v1/sessions`), each with its proposal's signature checked
   * as `terms` checks it, labs by name, in the relay's order.
   */
  async sessions(): Promise<SessionSummary[]> {
    const [{ sessions }, members] = await Promise.all([this.relay.listSessions(), this.members()]);
    const byId = new Map(members.map((m) => [m.keyId, m]));
    return sessions.map((status) => summaryOf(termsFromStatus(toHex(status.session), status, byId), byId));
  }

  /**
   * Aborts `session` for every lab in it, this lab named as the one that did (session-abort.ts):
   * the abort continues this lab's chain, from its state in `stateDir` if it joined. The state is
   * erased once the relay logged the abort. SESSION_FINISHED if the session is over already,
   * STATE_MISSING if this lab joined and its state is not here.
   */
  async abort(session: string, reason: string): Promise<AbortDone> {
    checkAbortReason(reason);
    const terms = await this.terms(session);
    return abortSession({
      relay: this.relay,
      me: this.keyId,
      secretKey: this.keys.signing.secretKey,
      terms,
      reason,
      store: this.#storeOf(session),
    });
  }

  /** Erases the state `run` kept for `session` (`keepState`) in `stateDir`; true if there was one. */
  async eraseState(session: string): Promise<boolean> {
    const store = this.#storeOf(session);
    if (store === undefined || !(await store.exists())) return false;
    await store.erase();
    return true;
  }

  #storeOf(session: string): LabStateStore | undefined {
    const { stateDir } = this.#options;
    return stateDir === undefined ? undefined : new LabStateStore(join(stateDir, `${session}.state`));
  }

  /**
   * Runs this lab's whole side of `session` with its canonical values per kind (kinds the session
   * does not name are ignored; kinds it names and `sets` lacks are committed as empty). With a state
   * for the session in `stateDir`, it resumes there (a `resuming` progress event says so). Without
   * one, it refuses, before writing anything, a session that is over (SESSION_FINISHED) or that
   * this lab already joined elsewhere (STATE_MISSING). With `keepState`, the state stays once the
   * session is over (without its session key) until `eraseState(session)`: a caller that writes the
   * results somewhere erases it after, so that a crash in between is resumed, not lost. `terms`:
   * what `me()` and `terms(session)` of this client just answered, when the caller asked first
   * (they are not asked again). `hashed`: the sets already hashed onto the group (`hashSets` of
   * @overlap/protocol, for example while the terms were asked): those are then only blinded.
   */
  async run(
    session: string,
    sets: Record<string, readonly string[]>,
    options: { keepState?: boolean; terms?: SessionTerms; hashed?: HashedSets } = {},
  ): Promise<SessionOutcome> {
    if (options.terms !== undefined && options.terms.session !== session) {
      throw new ClientError('BAD_ARGUMENT', `the terms given are session ${options.terms.session}'s, not ${session}'s`);
    }
    if (options.terms === undefined) await this.me();
    const terms = options.terms ?? (await this.terms(session));
    if (!terms.labs.some((lab) => lab.keyId === this.keyId)) {
      throw new ClientError('BAD_ARGUMENT', `this lab is not in session ${session}`);
    }
    // Refused before anything is written: with no state to resume, a finished session has nothing
    // for this lab, and one it already joined cannot be joined again.
    const store = this.#storeOf(session);
    if (!(store !== undefined && (await store.exists()))) {
      const { status } = terms;
      if (status.state === 'done' || status.state === 'aborted') throw sessionFinished(session, status);
      if (status.joined.includes(this.keyId)) throw stateMissing(session, store);
    }
    const keys = new Map(terms.labs.map((m) => [m.keyId, m.signingKey]));
    keys.set(this.info.relay_key_id, this.info.log_key);
    const names = new Map(terms.labs.map((m) => [m.keyId, m.lab]));
    const sessionId = Uint8Array.from(Buffer.from(session, 'hex'));
    const proposed = openEnvelope(terms.status.proposal_envelope, (id) => keys.get(id));
    const run = await runLabSession({
      client: this.relay,
      me: this.keyId,
      secretKey: this.keys.signing.secretKey,
      sessionId,
      proposal: parseMessage('session_proposal', proposed.payload),
      sets: Object.fromEntries(terms.kinds.map((kind) => [kind, sets[kind] ?? []])),
      ...(options.hashed !== undefined && { hashed: options.hashed }),
      publicKeyOf: (id) => keys.get(id),
      relayKeyId: this.info.relay_key_id,
      ...(proposed.header.sender === this.keyId && { previous: { seq: 0, hash: proposed.hash } }),
      ...(this.#options.pool && { pool: this.#options.pool }),
      ...(this.#options.signal && { signal: this.#options.signal }),
      ...(this.#options.onProgress && { onProgress: this.#options.onProgress }),
      ...(this.#options.createSession && { createSession: this.#options.createSession }),
      ...(store !== undefined && { store }),
      ...(options.keepState === true && { keepStore: true }),
      pollWaitMs: 10_000,
    });
    const results: SharedIndicator[] = [];
    // One array of names per distinct list of labs, shared by the results that name it.
    const namesOf = new Map<readonly string[], string[]>();
    const labNames = (ids: readonly string[]): string[] => {
      let list = namesOf.get(ids);
      if (list === undefined) {
        list = Object.freeze(ids.map((id) => names.get(id) ?? id).sort()) as string[];
        namesOf.set(ids, list);
      }
      return list;
    };
    for (const kind of [...run.results.keys()].sort()) {
      for (const row of run.results.get(kind) ?? []) {
        results.push({
          kind,
          value: row.value,
          ...(row.labs && { labs: labNames(row.labs) }),
          ...(row.count !== undefined && { count: row.count }),
        });
      }
    }
    results.sort((x, y) => (x.kind === y.kind ? compare(x.value, y.value) : compare(x.kind, y.kind)));
    const outcome: SessionOutcome = { session, policy: terms.policy, results };
    return run.abortReason === undefined ? outcome : { ...outcome, results: [], abortReason: run.abortReason };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
