/**
 * The field libraries whose data is part of rules version 1: two labs agree on phone numbers and
 * registrable domains only if they use the same metadata and Public Suffix List snapshot. These
 * are the exact versions the rules were written against; a test fails when the installed versions
 * differ, so an upgrade is always a deliberate, reviewed change (and possibly a new rules version).
 */
export const RULE_DEPENDENCIES = {
  /** Phone number metadata ("max"). */
  'libphonenumber-js': '1.13.16',
  /** Public Suffix List snapshot. */
  tldts: '7.6.0',
} as const;
