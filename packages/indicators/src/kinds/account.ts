/**
 * `account`: an account on some platform, `platform:handle`.
 *
 * Rules (version 1): trim; split at the first `:`; the platform id is lowercased and must be
 * 1–32 characters of a–z, 0–9, `.`, `_`, `-`, starting with a letter; the handle is Unicode
 * NFKC-normalized and case-folded (lowercased), must not be empty, and must not contain white space
 * or control characters. Platforms whose handles are case-sensitive are not yet distinguished:
 * version 1 folds case for all (say so when enrolling such a platform).
 */
import { z } from 'zod';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';
import { trimWhiteSpace } from '../text.js';

const PLATFORM = /^[A-Za-z][A-Za-z0-9._-]{0,31}$/;
const BAD_HANDLE = /[\s\p{Cc}\p{Cf}]/u;

/**
 * NFKC and lowercase, repeated until stable: lowercasing can produce a sequence that NFKC composes
 * further (some Greek letters with combining marks), and canonicalize must be idempotent.
 */
function foldHandle(handle: string): string {
  let current = handle;
  for (let i = 0; i < 4; i++) {
    const next = current.normalize('NFKC').toLowerCase().normalize('NFKC');
    if (next === current) break;
    current = next;
  }
  return current;
}

export const accountKind = defineKind({
  name: 'account',
  rulesVersion: 1,
  summary: 'platform:handle with a lowercase platform id and a case-folded NFKC handle',
  schema: z.string().regex(/^[a-z][a-z0-9._-]{0,31}:[^\s]+$/u, 'not a canonical account'),
  maxLength: 512,
  canonicalize(raw) {
    const text = trimWhiteSpace(raw);
    const colon = text.indexOf(':');
    if (colon < 0) throw new IndicatorError('INVALID_ACCOUNT', `${quote(raw)} is not platform:handle`);
    const platformRaw = text.slice(0, colon);
    const platform = platformRaw.toLowerCase();
    const handle = foldHandle(text.slice(colon + 1));
    if (!PLATFORM.test(platformRaw))
      throw new IndicatorError('INVALID_ACCOUNT', `${quote(raw)} has an invalid platform id`);
    if (handle === '' || BAD_HANDLE.test(handle)) {
      throw new IndicatorError('INVALID_ACCOUNT', `${quote(raw)} has an empty handle or white space in it`);
    }
    return `${platform}:${handle}`;
  },
  examples: [
    { raw: 'github:SomeOne', canonical: 'github:someone' },
    { raw: ' GitHub:someone ', canonical: 'github:someone' },
    { raw: 'discord:Ｕｓｅｒ', canonical: 'discord:user', note: 'full-width letters fold under NFKC' },
    { raw: 'x:a:b', canonical: 'x:a:b', note: 'only the first colon separates' },
    { raw: 'x:\u03aa\u0301', canonical: 'x:\u0390', note: 'folding is repeated until stable' },
  ],
  counterExamples: [
    { raw: 'someone', code: 'INVALID_ACCOUNT' },
    { raw: 'github:', code: 'INVALID_ACCOUNT' },
    { raw: ':someone', code: 'INVALID_ACCOUNT' },
    { raw: 'git hub:someone', code: 'INVALID_ACCOUNT' },
    { raw: 'github:some one', code: 'INVALID_ACCOUNT' },
    { raw: '1github:someone', code: 'INVALID_ACCOUNT' },
    { raw: '\u212aick:someone', code: 'INVALID_ACCOUNT', note: 'the Kelvin sign is not the letter k' },
  ],
});
