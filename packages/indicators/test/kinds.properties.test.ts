/**
 * Laws every kind must keep, on generated input: canonicalizing a canonical value returns it
 * unchanged, and equivalent spellings of one identifier map to one value.
 */
import { fc, test } from '@fast-check/vitest';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { describe, expect } from 'vitest';
import { canonicalize, deriveIpPrefix, getIndicatorKind, IndicatorError } from '../src/index.js';

/** canonicalize, or undefined when the kind rejects the input (with a typed error, never else). */
function tryCanonical(kind: string, raw: string): string | undefined {
  try {
    return canonicalize(kind, raw);
  } catch (error) {
    expect(error).toBeInstanceOf(IndicatorError);
    return undefined;
  }
}

function checkIdempotent(kind: string, raw: string): string | undefined {
  const value = tryCanonical(kind, raw);
  if (value !== undefined) {
    expect(canonicalize(kind, value)).toBe(value);
    expect(getIndicatorKind(kind).schema.safeParse(value).success).toBe(true);
  }
  return value;
}

const randomCase = (text: string, flips: boolean[]) =>
  [...text].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c.toLowerCase())).join('');

describe('email', () => {
  test.prop([fc.emailAddress()])('is idempotent and its schema holds', (raw) => {
    checkIdempotent('email', raw);
  });

  test.prop([fc.emailAddress(), fc.array(fc.boolean(), { minLength: 1 }), fc.stringMatching(/^[a-z0-9]{1,8}$/)])(
    'case, a +tag and surrounding space do not change the value',
    (raw, flips, tag) => {
      const value = tryCanonical('email', raw);
      fc.pre(value !== undefined && !raw.includes('+'));
      const [local, domain] = [raw.slice(0, raw.lastIndexOf('@')), raw.slice(raw.lastIndexOf('@') + 1)];
      expect(canonicalize('email', ` ${randomCase(local, flips)}+${tag}@${randomCase(domain, flips)} `)).toBe(value);
    },
  );

  test.prop([fc.stringMatching(/^[a-z0-9]{2,12}$/), fc.array(fc.nat(), { maxLength: 4 })])(
    'dots anywhere inside a gmail local part do not change the value',
    (local, positions) => {
      let dotted = local;
      for (const p of positions) {
        const at = 1 + (p % (dotted.length - 1));
        if (dotted[at - 1] !== '.' && dotted[at] !== '.') dotted = `${dotted.slice(0, at)}.${dotted.slice(at)}`;
      }
      expect(canonicalize('email', `${dotted}@googlemail.com`)).toBe(`${local}@gmail.com`);
    },
  );
});

describe('ip and ip_prefix', () => {
  test.prop([fc.ipV4()])('IPv4 in strict form is its own canonical value', (ip) => {
    expect(canonicalize('ip', ip)).toBe(ip);
  });

  test.prop([fc.ipV6()])('IPv6 is idempotent, and the fully expanded uppercase form maps to the same value', (ip) => {
    const value = checkIdempotent('ip', ip);
    expect(value).toBeDefined();
    if (value?.includes(':')) {
      const expanded = expandIpv6(value).toUpperCase();
      expect(canonicalize('ip', expanded)).toBe(value);
    }
  });

  test.prop([fc.ipV4(), fc.integer({ min: 0, max: 32 })])(
    'a prefix clears host bits and is idempotent',
    (ip, length) => {
      const value = canonicalize('ip_prefix', `${ip}/${length}`);
      expect(value).toBe(deriveIpPrefix(ip, length));
      expect(canonicalize('ip_prefix', value)).toBe(value);
      const [network] = value.split('/');
      const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
      expect(toUint32(network as string)).toBe((toUint32(ip) & mask) >>> 0);
    },
  );

  test.prop([fc.ipV6(), fc.integer({ min: 0, max: 128 })])('IPv6 prefixes are idempotent', (ip, length) => {
    checkIdempotent('ip_prefix', `${ip}/${length}`);
  });
});

describe('domain and registrable_domain', () => {
  test.prop([fc.domain(), fc.array(fc.boolean(), { minLength: 1 })])(
    'is idempotent; case and one trailing dot do not change the value',
    (domain, flips) => {
      const value = checkIdempotent('domain', domain);
      if (value !== undefined) expect(canonicalize('domain', `${randomCase(domain, flips)}.`)).toBe(value);
      checkIdempotent('registrable_domain', domain);
    },
  );
});

describe('asn, account, payment_fingerprint, ja4, ja4h', () => {
  test.prop([fc.integer({ min: 0, max: 4294967295 }), fc.nat(3)])(
    'AS numbers with any prefix spelling and zeros',
    (n, zeros) => {
      expect(canonicalize('asn', `as ${'0'.repeat(zeros)}${n}`)).toBe(`AS${n}`);
      expect(canonicalize('asn', `AS${n}`)).toBe(`AS${n}`);
    },
  );

  test.prop([fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/), fc.string({ minLength: 1, maxLength: 30 })])(
    'account and payment_fingerprint are idempotent',
    (platform, handle) => {
      checkIdempotent('account', `${platform}:${handle}`);
      checkIdempotent('payment_fingerprint', `${platform}:${handle}`);
    },
  );

  test.prop([fc.string({ maxLength: 60 })])(
    'arbitrary text is either rejected with a typed error or idempotent',
    (text) => {
      for (const kind of [
        'ja4',
        'ja4h',
        'asn',
        'account',
        'domain',
        'email',
        'ip',
        'ip_prefix',
        'crypto_wallet',
        'url',
      ]) {
        checkIdempotent(kind, text);
      }
    },
  );
});

describe('phone', () => {
  // Valid US numbers: area and exchange codes start with 2-9; 555-01xx is the fictional range.
  const usNumber = fc.tuple(
    fc.integer({ min: 201, max: 989 }),
    fc.integer({ min: 200, max: 999 }),
    fc.integer({ min: 0, max: 9999 }),
  );

  test.prop([usNumber])('the usual ways of writing one number meet in one E.164 value', ([area, exchange, line]) => {
    const sub = String(line).padStart(4, '0');
    const e164 = tryCanonical('phone', `+1${area}${exchange}${sub}`);
    fc.pre(e164 !== undefined); // not every area code is assigned
    expect(e164).toBe(`+1${area}${exchange}${sub}`);
    for (const spelling of [
      `+1 (${area}) ${exchange}-${sub}`,
      `001 ${area} ${exchange} ${sub}`,
      `+1.${area}.${exchange}.${sub}`,
    ]) {
      expect(canonicalize('phone', spelling)).toBe(e164);
    }
    for (const national of [
      `(${area}) ${exchange}-${sub}`,
      `${area}-${exchange}-${sub}`,
      `1 ${area} ${exchange} ${sub}`,
    ]) {
      expect(canonicalize('phone', national, { region: 'US' })).toBe(e164);
      expect(() => canonicalize('phone', national)).toThrow(expect.objectContaining({ code: 'REGION_REQUIRED' }));
    }
  });
});

describe('url', () => {
  test.prop([fc.webUrl({ withQueryParameters: true, withFragments: true })], { numRuns: 300 })(
    'is idempotent, drops the fragment, and ignores the case of scheme and host',
    (url) => {
      const value = checkIdempotent('url', url);
      if (value === undefined) return;
      expect(value).not.toContain('#');
      const schemeEnd = url.indexOf('://') + 3;
      const hostEnd = url.slice(schemeEnd).search(/[/?#]|$/) + schemeEnd;
      const shouted = `${url.slice(0, hostEnd).toUpperCase()}${url.slice(hostEnd)}`;
      expect(canonicalize('url', shouted)).toBe(value);
    },
  );

  test.prop([fc.webUrl(), fc.nat(3)])(
    'percent-escaping the path any number of times does not change the value',
    (url, times) => {
      const value = tryCanonical('url', url);
      fc.pre(value !== undefined);
      const schemeEnd = url.indexOf('://') + 3;
      const pathStart = url.slice(schemeEnd).search(/[/]|$/) + schemeEnd;
      let path = url.slice(pathStart).split('#')[0] as string;
      for (let i = 0; i < times; i++) path = path.replaceAll('%', '%25');
      expect(canonicalize('url', url.slice(0, pathStart) + path)).toBe(value);
    },
  );
});

describe('crypto_wallet', () => {
  test.prop([fc.uint8Array({ minLength: 20, maxLength: 20 })])(
    'an EIP-55 checksummed address maps to lowercase; one flipped letter fails the checksum',
    (bytes) => {
      const lower = Buffer.from(bytes).toString('hex');
      const checksummed = eip55(lower);
      expect(canonicalize('crypto_wallet', `eth:0x${checksummed}`)).toBe(`eth:0x${lower}`);
      const letter = [...checksummed].findIndex((c) => /[a-f]/i.test(c));
      fc.pre(letter >= 0 && checksummed !== lower && checksummed !== lower.toUpperCase());
      const c = checksummed[letter] as string;
      const flipped = `${checksummed.slice(0, letter)}${c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()}${checksummed.slice(letter + 1)}`;
      if (flipped !== lower && flipped !== lower.toUpperCase()) {
        expect(() => canonicalize('crypto_wallet', `eth:0x${flipped}`)).toThrow(
          expect.objectContaining({ code: 'BAD_CHECKSUM' }),
        );
      }
    },
  );
});

/** EIP-55 written out independently of the implementation under test. */
function eip55(lowerHex: string): string {
  const hash = Buffer.from(keccak_256(new TextEncoder().encode(lowerHex))).toString('hex');
  return [...lowerHex].map((c, i) => (Number.parseInt(hash[i] as string, 16) >= 8 ? c.toUpperCase() : c)).join('');
}

function expandIpv6(compressed: string): string {
  const [head, tail] = compressed.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => g.padStart(4, '0')).join(':');
}

function toUint32(ip: string): number {
  return ip.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}
