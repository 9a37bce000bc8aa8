/**
 * The forum admin's side: enrolling and revoking labs. Each action is an envelope signed by the
 * admin key in the admin's chain of the zero session (spec/protocol.md §4), posted to the relay,
 * which logs it like any other envelope; the receipt is verified. The chain position is read back
 * from the relay's membership list (every entry there is the admin's), so the admin keeps no state.
 */
import { keyId, type LabKeys, sha256 } from '@overlap/crypto';
import type { NoteVerifier } from '@overlap/log';
import { type CborValue, EnvelopeChain, openEnvelope, ProtocolError, parseMessage } from '@overlap/protocol';
import { ClientError } from './errors.js';
import { RelayClient } from './relay-client.js';
import type { RetryOptions } from './retry.js';

/** A lab's public identity, as `overlap keygen` writes it for the forum. */
export interface LabIdentity {
  key_id: string;
  /** Ed25519 signing key, 64 hex digits. */
  signing_key: string;
  /** X25519 sealing key, 64 hex digits. */
  sealing_key: string;
}

export function labIdentityOf(keys: LabKeys): LabIdentity {
  return {
    key_id: keys.keyId,
    signing_key: Buffer.from(keys.signing.publicKey).toString('hex'),
    sealing_key: Buffer.from(keys.sealing.publicKey).toString('hex'),
  };
}

/** Checks an identity document from a lab (attacker-controlled until the admin vouches for it). */
export function parseLabIdentity(value: unknown): { signingKey: Uint8Array; sealingKey: Uint8Array; keyId: string } {
  const doc = value as Partial<LabIdentity> | null;
  const hex32 = (field: 'signing_key' | 'sealing_key') => {
    const text = doc?.[field];
    if (typeof text !== 'string' || !/^[0-9a-f]{64}$/.test(text)) {
      throw new ClientError('BAD_ARGUMENT', `identity: ${field} must be 64 lowercase hex digits`);
    }
    return Uint8Array.from(Buffer.from(text, 'hex'));
  };
  const signingKey = hex32('signing_key');
  const sealingKey = hex32('sealing_key');
  const id = keyId(signingKey);
  if (doc?.key_id !== undefined && doc.key_id !== id) {
    throw new ClientError('BAD_ARGUMENT', `identity: key_id ${doc.key_id} is not the id of its signing key (${id})`);
  }
  return { signingKey, sealingKey, keyId: id };
}

export class ForumAdmin {
  readonly relay: RelayClient;
  readonly #keys: LabKeys;
  /**
   * This admin's actions, one after another: each reads the head of the admin's chain and extends
   * it, so two at once would sign two envelopes at one seq (the relay refuses the second, 409).
   */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    relayUrl: string,
    adminKeys: LabKeys,
    options: { retry?: RetryOptions; signal?: AbortSignal; logVerifier?: NoteVerifier } = {},
  ) {
    this.#keys = adminKeys;
    this.relay = new RelayClient({
      url: relayUrl,
      signer: { keyId: adminKeys.keyId, secretKey: adminKeys.signing.secretKey },
      ...options,
    });
  }

  async enroll(
    identity: { signingKey: Uint8Array; sealingKey: Uint8Array },
    lab: string,
    options: { name?: string; validFrom?: number; validUntil?: number } = {},
  ): Promise<{ keyId: string; index: number }> {
    const now = Date.now();
    const receipt = await this.#post('enrollment', {
      lab,
      name: options.name ?? lab,
      signing_key: identity.signingKey,
      sealing_key: identity.sealingKey,
      valid_from: options.validFrom ?? now - 60_000,
      valid_until: options.validUntil ?? now + 365 * 24 * 3_600_000,
    });
    return { keyId: keyId(identity.signingKey), index: receipt.index };
  }

  async revoke(key: string, reason: string, effective = Date.now()): Promise<{ index: number }> {
    const receipt = await this.#post('revocation', { key, reason, effective });
    return { index: receipt.index };
  }

  #post(type: 'enrollment' | 'revocation', payload: Record<string, unknown>) {
    const posted = this.#queue.then(() => this.#postNow(type, payload));
    this.#queue = posted.catch(() => {});
    return posted;
  }

  async #postNow(type: 'enrollment' | 'revocation', payload: Record<string, unknown>) {
    // Checked here, before anything is sent: the relay would refuse it, and a caller should learn
    // which field is wrong without a round trip.
    try {
      parseMessage(type, payload);
    } catch (cause) {
      if (!(cause instanceof ProtocolError)) throw cause;
      throw new ClientError('BAD_ARGUMENT', cause.message, { cause });
    }
    const info = await this.relay.relayInfo();
    if (Buffer.from(info.admin_key).toString('hex') !== Buffer.from(this.#keys.signing.publicKey).toString('hex')) {
      throw new ClientError('BAD_ARGUMENT', 'this key is not the admin key of that relay');
    }
    const { entries } = await this.relay.membership();
    const last = entries.at(-1);
    // The chain we extend must be the admin's: its last entry opens under the admin key.
    const head = last && {
      seq: openEnvelope(last.envelope, () => info.admin_key).header.seq,
      hash: sha256(last.envelope),
    };
    const chain = new EnvelopeChain(
      new Uint8Array(16),
      { keyId: this.#keys.keyId, secretKey: this.#keys.signing.secretKey },
      head,
    );
    const envelope = chain.seal(type, payload as CborValue, Date.now());
    return this.relay.postAdmin(envelope.bytes);
  }
}
