/**
 * `payment_fingerprint`: an opaque payment-instrument fingerprint from a processor, `issuer:token`.
 *
 * Rules (version 1): trim; the issuer id (before the first `:`) is lowercased and must be 1–32
 * characters of a–z, 0–9, `.`, `_`, `-`, starting with a letter; the token is kept exactly (case
 * matters: processors issue case-sensitive tokens), must not be empty and must not contain white
 * space or control characters.
 */
import { z } from 'zod';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';
import { trimWhiteSpace } from '../text.js';

const ISSUER = /^[A-Za-z][A-Za-z0-9._-]{0,31}$/;
const BAD_TOKEN = /[\s\p{Cc}\p{Cf}]/u;

export const paymentFingerprintKind = defineKind({
  name: 'payment_fingerprint',
  rulesVersion: 1,
  summary: 'issuer:token with a lowercase issuer id and the token as given',
  schema: z.string().regex(/^[a-z][a-z0-9._-]{0,31}:[^\s]+$/u, 'not a canonical payment fingerprint'),
  maxLength: 512,
  canonicalize(raw) {
    const text = trimWhiteSpace(raw);
    const colon = text.indexOf(':');
    if (colon < 0) throw new IndicatorError('INVALID_PAYMENT_FINGERPRINT', `${quote(raw)} is not issuer:token`);
    const issuerRaw = text.slice(0, colon);
    const issuer = issuerRaw.toLowerCase();
    const token = text.slice(colon + 1);
    if (!ISSUER.test(issuerRaw)) {
      throw new IndicatorError('INVALID_PAYMENT_FINGERPRINT', `${quote(raw)} has an invalid issuer id`);
    }
    if (token === '' || BAD_TOKEN.test(token)) {
      throw new IndicatorError('INVALID_PAYMENT_FINGERPRINT', `${quote(raw)} has an empty token or white space in it`);
    }
    return `${issuer}:${token}`;
  },
  examples: [
    { raw: 'Stripe:fp_1a2B3c', canonical: 'stripe:fp_1a2B3c', note: 'the token keeps its case' },
    { raw: ' adyen:ABC/def+123= ', canonical: 'adyen:ABC/def+123=' },
  ],
  counterExamples: [
    { raw: 'fp_1a2B3c', code: 'INVALID_PAYMENT_FINGERPRINT' },
    { raw: 'stripe:fp 1a2B3c', code: 'INVALID_PAYMENT_FINGERPRINT' },
    { raw: 'stripe:', code: 'INVALID_PAYMENT_FINGERPRINT' },
  ],
});
