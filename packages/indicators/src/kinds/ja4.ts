/**
 * `ja4`: a JA4 TLS client fingerprint (FoxIO's JA4, the `a_b_c` form), lowercase.
 *
 * Rules (version 1): trim and lowercase; then the format must be exactly
 *   a: protocol `t` (TCP), `q` (QUIC) or `d` (DTLS); TLS version `13`, `12`, `11`, `10`, `s3`,
 *      `s2`, `d1`, `d2`, `d3` or `00`; SNI `d` (domain) or `i` (none); two digits of cipher count;
 *      two digits of extension count; two ALPN characters (a–z, 0–9; `00` for none);
 *   b, c: 12 hexadecimal digits each (truncated SHA-256),
 * joined by `_`. The raw (`_r`) and original-order (`_o`) variants are other fingerprints and are
 * rejected.
 */
import { z } from 'zod';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';
import { trimWhiteSpace } from '../text.js';

const JA4 = /^[tqd](?:13|12|11|10|s3|s2|d1|d2|d3|00)[di]\d{2}\d{2}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/;

export const ja4Kind = defineKind({
  name: 'ja4',
  rulesVersion: 1,
  summary: 'a JA4 TLS client fingerprint (a_b_c), lowercase',
  schema: z.string().regex(JA4, 'not a canonical JA4 fingerprint'),
  maxLength: 128,
  canonicalize(raw) {
    const value = trimWhiteSpace(raw).toLowerCase();
    if (!JA4.test(value)) throw new IndicatorError('INVALID_JA4', `${quote(raw)} is not a JA4 fingerprint`);
    return value;
  },
  examples: [
    { raw: 't13d1516h2_8daaf6152771_b186095e22b6', canonical: 't13d1516h2_8daaf6152771_b186095e22b6' },
    { raw: ' T13D1516H2_8DAAF6152771_B186095E22B6 ', canonical: 't13d1516h2_8daaf6152771_b186095e22b6' },
    { raw: 'q13d0310h3_55b375c5d22e_cd85d2d88918', canonical: 'q13d0310h3_55b375c5d22e_cd85d2d88918' },
  ],
  counterExamples: [
    { raw: 't13d1516h2_8daaf6152771', code: 'INVALID_JA4', note: 'missing the c part' },
    { raw: 'x13d1516h2_8daaf6152771_b186095e22b6', code: 'INVALID_JA4', note: 'unknown protocol' },
    { raw: 't14d1516h2_8daaf6152771_b186095e22b6', code: 'INVALID_JA4', note: 'unknown version' },
    { raw: 't13d1516h2_8daaf615277g_b186095e22b6', code: 'INVALID_JA4', note: 'not hex' },
    { raw: 't13d1516h2_8daaf6152771_b186095e22b6_r', code: 'INVALID_JA4' },
  ],
});
