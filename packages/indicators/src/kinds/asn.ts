/**
 * `asn`: an autonomous system number, `AS` followed by the decimal number without leading zeros.
 *
 * Rules (version 1): trim; an optional `AS` prefix in any case (also `AS 64496`); the number in
 * decimal (or asdot `x.y`, RFC 5396, read as x·65536 + y), from 0 to 4294967295, written back
 * without leading zeros.
 */
import { z } from 'zod';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';
import { trimWhiteSpace } from '../text.js';

const MAX_ASN = 4294967295;

export const asnKind = defineKind({
  name: 'asn',
  rulesVersion: 1,
  summary: 'AS followed by the decimal number, no leading zeros',
  schema: z.string().regex(/^AS(?:0|[1-9][0-9]{0,9})$/, 'not a canonical ASN'),
  maxLength: 32,
  canonicalize(raw) {
    const match = /^(?:as ?)?(?:([0-9]+)\.([0-9]+)|([0-9]+))$/i.exec(trimWhiteSpace(raw));
    if (!match) throw new IndicatorError('INVALID_ASN', `${quote(raw)} is not an AS number`);
    const [, high, low, plain] = match;
    let n: number;
    if (plain !== undefined) {
      n = Number(plain);
    } else {
      const h = Number(high);
      const l = Number(low);
      if (h > 65535 || l > 65535) throw new IndicatorError('INVALID_ASN', `${quote(raw)} is not valid asdot`);
      n = h * 65536 + l;
    }
    if (!Number.isSafeInteger(n) || n > MAX_ASN)
      throw new IndicatorError('INVALID_ASN', `${quote(raw)} is out of range`);
    return `AS${n}`;
  },
  examples: [
    { raw: 'AS64496', canonical: 'AS64496' },
    { raw: 'as 064496', canonical: 'AS64496' },
    { raw: '64496', canonical: 'AS64496' },
    { raw: 'AS1.10', canonical: 'AS65546', note: 'asdot notation' },
  ],
  counterExamples: [
    { raw: 'AS4294967296', code: 'INVALID_ASN' },
    { raw: 'AS-1', code: 'INVALID_ASN' },
    { raw: 'ASN64496', code: 'INVALID_ASN' },
    { raw: 'AS64496x', code: 'INVALID_ASN' },
  ],
});
