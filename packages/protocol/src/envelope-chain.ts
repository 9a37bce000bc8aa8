/**
 * A sender's chain of envelopes in one session (spec/protocol.md §3): each envelope carries the
 * next `seq` (from 0) and, as `prev`, the hash of the sender's previous envelope (32 zero bytes for
 * seq 0). `EnvelopeChain` seals a sender's envelopes in that order; `checkChain` is the receiver's
 * side of the same rule. Every party that seals more than one envelope — a lab's session runner,
 * the forum admin's membership chain, the relay's own `result_rows` and `abort` — uses the chain,
 * so no one computes seq and prev by hand.
 *
 * Threat: a dropped, replayed, reordered or forked envelope is visible to every receiver only if
 * every sender chains exactly this way; a receiver refuses a gap, a replay or a fork.
 */
import { equalBytes } from '@overlap/crypto';
import type { CborValue } from './cbor.js';
import { type EnvelopeSigner, type MessageType, type OpenedEnvelope, sealEnvelope, ZERO_HASH } from './envelope.js';
import { ProtocolError } from './errors.js';

/** The last envelope of one sender in one session: its seq and hash. */
export interface ChainState {
  seq: number;
  hash: Uint8Array;
}

/**
 * Checks that `envelope` continues its sender's chain in the session, given the sender's last
 * accepted envelope (`previous`, undefined before the first): the next sequence number and the
 * previous envelope's hash. A gap, a replay or a fork is BAD_ENVELOPE. Returns the new chain state.
 */
export function checkChain(previous: ChainState | undefined, envelope: OpenedEnvelope): ChainState {
  const { header } = envelope;
  const expectedSeq = previous === undefined ? 0 : previous.seq + 1;
  if (header.seq !== expectedSeq) {
    throw new ProtocolError(
      'BAD_ENVELOPE',
      `sequence number ${header.seq} from ${header.sender}; expected ${expectedSeq}`,
    );
  }
  if (!equalBytes(header.prev, previous?.hash ?? ZERO_HASH)) {
    throw new ProtocolError(
      'BAD_ENVELOPE',
      `envelope ${header.seq} of ${header.sender} does not follow its previous one`,
    );
  }
  return { seq: header.seq, hash: envelope.hash };
}

/** Seals one sender's envelopes in one session, each continuing the chain of the one before. */
export class EnvelopeChain {
  readonly session: Uint8Array;
  readonly #signer: EnvelopeSigner;
  #last: ChainState | undefined;

  /** `last`: the sender's last envelope in this session, when resuming a chain already begun. */
  constructor(session: Uint8Array, signer: EnvelopeSigner, last?: ChainState) {
    this.session = session;
    this.#signer = signer;
    this.#last = last;
  }

  /** The sender's last sealed envelope (undefined before the first). */
  get last(): ChainState | undefined {
    return this.#last;
  }

  /** The seq the next envelope will carry. */
  get nextSeq(): number {
    return this.#last === undefined ? 0 : this.#last.seq + 1;
  }

  /** Seals the next envelope of the chain. `created`: milliseconds since the epoch, the caller's clock. */
  seal(type: MessageType, payload: CborValue, created: number): OpenedEnvelope {
    const envelope = sealEnvelope(
      {
        type,
        session: this.session,
        seq: this.nextSeq,
        ...(this.#last && { prev: this.#last.hash }),
        created,
        payload,
      },
      this.#signer,
    );
    this.#last = { seq: envelope.header.seq, hash: envelope.hash };
    return envelope;
  }
}
