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

const PLATFORM = /^[a-z][a-z0-9._-]{0,31}$/;
const BAD_HANDLE = /[\s\p{Cc}\p{Cf}]/u;

export const accountKind = defineKind({
  name: 'account',
  rulesVersion: 1,
  summary: 'platform:handle with a lowercase platform id and a case-folded NFKC handle',
  schema: z.string().regex(/^[a-z][a-z0-9._-]{0,31}:[^\s]+$/u, 'not a canonical account'),
  maxLength: 512,
  canonicalize(raw) {
    const text = raw.trim();
    const colon = text.indexOf(':');
    if (colon < 0) throw new IndicatorError('INVALID_ACCOUNT', `${quote(raw)} is not platform:handle`);
    const platform = text.slice(0, colon).toLowerCase();
    const handle = text
      .slice(colon + 1)
      .normalize('NFKC')
      .toLowerCase();
    if (!PLATFORM.test(platform))
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
  ],
  counterExamples: [
    { raw: 'someone', code: 'INVALID_ACCOUNT' },
    { raw: 'github:', code: 'INVALID_ACCOUNT' },
    { raw: ':someone', code: 'INVALID_ACCOUNT' },
    { raw: 'git hub:someone', code: 'INVALID_ACCOUNT' },
    { raw: 'github:some one', code: 'INVALID_ACCOUNT' },
    { raw: '1github:someone', code: 'INVALID_ACCOUNT' },
  ],
});
