/**
 * Membership: which lab keys may act, from the admin-signed enrollment and revocation envelopes in
 * the log (spec/protocol.md §4). The relay holds no other source of truth: rebuilding this from the
 * log gives the same answer, and an auditor can do the same.
 */
import { keyId, toHex } from '@overlap/crypto';
import { type Enrollment, type OpenedEnvelope, parseMessage, type Revocation } from '@overlap/protocol';
import { checkMessage } from './protocol-errors.js';

/** The session id under which admin envelopes are sent: 16 zero bytes. */
export const MEMBERSHIP_SESSION = new Uint8Array(16);

export interface EnrolledKey {
  keyId: string;
  lab: string;
  name: string;
  signingKey: Uint8Array;
  sealingKey: Uint8Array;
  validFrom: number;
  validUntil: number;
  /** Milliseconds from which the key is revoked, if it is. */
  revokedFrom?: number;
  revocationReason?: string;
}

export type KeyStanding = 'ok' | 'unknown' | 'revoked' | 'expired' | 'not_yet_valid';

export class Membership {
  readonly adminKeyId: string;
  readonly adminKey: Uint8Array;
  readonly #members = new Map<string, EnrolledKey>();
  /** Index and bytes of every admin envelope, in log order (what GET /v1/membership serves). */
  readonly entries: { index: number; envelope: Uint8Array }[] = [];

  constructor(adminKey: Uint8Array) {
    this.adminKey = adminKey;
    this.adminKeyId = keyId(adminKey);
  }

  /**
   * Why this admin envelope cannot be applied, or undefined. A payload that is not a valid
   * enrollment or revocation throws PROTOCOL_VIOLATION naming every invalid field.
   */
  problem(opened: OpenedEnvelope): string | undefined {
    if (opened.header.sender !== this.adminKeyId) return 'membership changes must be signed by the admin key';
    if (toHex(opened.header.session) !== toHex(MEMBERSHIP_SESSION)) return 'membership envelopes use the zero session';
    if (opened.header.type === 'enrollment') {
      const enrollment: Enrollment = checkMessage(() => parseMessage('enrollment', opened.payload));
      const id = keyId(enrollment.signing_key);
      if (this.#members.has(id)) return `key ${id} is already enrolled`;
      for (const member of this.#members.values()) {
        if (
          member.lab === enrollment.lab &&
          member.revokedFrom === undefined &&
          member.validUntil > enrollment.valid_from
        )
          return `lab ${enrollment.lab} already has an active key (${member.keyId}); revoke it first`;
      }
      return undefined;
    }
    if (opened.header.type === 'revocation') {
      const revocation: Revocation = checkMessage(() => parseMessage('revocation', opened.payload));
      const member = this.#members.get(revocation.key);
      if (!member) return `key ${revocation.key} is not enrolled`;
      if (member.revokedFrom !== undefined) return `key ${revocation.key} is already revoked`;
      return undefined;
    }
    return `${opened.header.type} is not a membership message`;
  }

  /** Applies an admin envelope already checked with `problem`. */
  apply(opened: OpenedEnvelope, index: number): void {
    if (opened.header.type === 'enrollment') {
      const e = parseMessage('enrollment', opened.payload) as Enrollment;
      const id = keyId(e.signing_key);
      this.#members.set(id, {
        keyId: id,
        lab: e.lab,
        name: e.name,
        signingKey: e.signing_key,
        sealingKey: e.sealing_key,
        validFrom: e.valid_from,
        validUntil: e.valid_until,
      });
    } else {
      const r = parseMessage('revocation', opened.payload) as Revocation;
      const member = this.#members.get(r.key) as EnrolledKey;
      member.revokedFrom = r.effective;
      member.revocationReason = r.reason;
    }
    this.entries.push({ index, envelope: opened.bytes });
  }

  get(id: string): EnrolledKey | undefined {
    return this.#members.get(id);
  }

  list(): EnrolledKey[] {
    return [...this.#members.values()];
  }

  standing(id: string, now: number): KeyStanding {
    const member = this.#members.get(id);
    if (!member) return 'unknown';
    if (member.revokedFrom !== undefined && now >= member.revokedFrom) return 'revoked';
    if (now < member.validFrom) return 'not_yet_valid';
    if (now >= member.validUntil) return 'expired';
    return 'ok';
  }

  /** Signing key of a member (whatever its standing: old envelopes stay verifiable). */
  signingKeyOf(id: string): Uint8Array | undefined {
    return this.#members.get(id)?.signingKey;
  }
}
