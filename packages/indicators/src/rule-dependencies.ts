/**
 * What rules version 2 depends on beyond its own text (spec/indicators.md §1, "Pinned data"):
 * two labs agree on phone numbers, host names and registrable domains only if they use the same
 * phone metadata, IDNA tables and Public Suffix List snapshot.
 *
 * `RULE_DEPENDENCIES` are the exact npm versions the reference uses; a test fails when the
 * installed versions differ, so an upgrade is always a deliberate, reviewed change (and, when an
 * output changes, a new rules version). `RULE_DATA` names the upstream data inside them, for an
 * implementation in another language that cannot use these packages.
 */
export const RULE_DEPENDENCIES = {
  /** Phone number metadata ("max"). */
  'libphonenumber-js': '1.13.16',
  /** Public Suffix List snapshot. */
  tldts: '7.6.0',
  /** UTS #46 (IDNA) mapping and validity tables. */
  tr46: '6.0.0',
} as const;

export const RULE_DATA = {
  phone_metadata: 'Google libphonenumber metadata 9.0.43, full ("max") validation patterns (libphonenumber-js 1.13.16)',
  public_suffix_list:
    'the Public Suffix List as tldts 7.6.0 embeds it (published 2026-11-25), ICANN and private sections',
  idna: 'UTS #46 with the IdnaMappingTable of Unicode 17.0.0 (tr46 6.0.0)',
  /** Case mapping, NFKC and the character properties the rules name: the runtime's ICU data. */
  unicode: '17.0',
} as const;
