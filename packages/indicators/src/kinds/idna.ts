/**
 * The IDNA mapping every host-name rule uses (spec/indicators.md §2 "Domain names"): UTS #46
 * ToASCII, as implemented by `tr46` with its Unicode 17.0.0 tables, with these options fixed:
 *
 *   Transitional_Processing = false   (nontransitional: `faß.de` → `xn--fa-hia.de`)
 *   CheckHyphens            = false   (`r3---sn-abc.example` is a real host name)
 *   CheckBidi               = true    (RFC 5893: `١٢.example` is refused)
 *   CheckJoiners            = true    (RFC 5892 CONTEXTJ: `a\u200db.example` is refused)
 *   UseSTD3ASCIIRules       = true    (only letters, digits and `-` in a label)
 *   VerifyDnsLength         = false   (the rules bound lengths themselves, after the root dot)
 *   IgnoreInvalidPunycode   = false
 *
 * Written against a pinned library rather than node's `url.domainToASCII`: that one is the ada
 * library bundled with whatever Node runs, with its own Unicode version, and it does not apply
 * CheckBidi; two labs on different Node versions would compute different values.
 *
 * Threat: the mapping is where lookalike spellings become one name; it must be the same function
 * for every lab, so it is a fixed table and fixed options, never the runtime's.
 */
import { toASCII } from 'tr46';

/** The options, as tr46 names them (exported for the tests that check the fast path against tr46). */
export const UTS46_OPTIONS = {
  transitionalProcessing: false,
  checkHyphens: false,
  checkBidi: true,
  checkJoiners: true,
  useSTD3ASCIIRules: true,
  verifyDNSLength: false,
  ignoreInvalidPunycode: false,
} as const;

// Letters, digits, hyphens and dots only, and no label starting with `xn--` (any case).
const PLAIN_ASCII = /^(?![Xx][Nn]--)(?:[A-Za-z0-9-]|\.(?![Xx][Nn]--))*$/;

/** UTS #46 ToASCII of `name` under the options above, or `undefined` when it records an error. */
export function uts46ToAscii(name: string): string | undefined {
  // Fast path, exact for this input: the mapping of such a name only lowercases A–Z, and with no
  // non-ASCII code point and no A-label it is no bidi domain name and holds no joiner, so no
  // check can fail. Most names are like this; tr46 takes ten times longer on them.
  if (PLAIN_ASCII.test(name)) return name.toLowerCase();
  const ascii = toASCII(name, UTS46_OPTIONS);
  return ascii === null ? undefined : ascii;
}
