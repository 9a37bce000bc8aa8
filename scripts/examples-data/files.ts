/**
 * The three labs' files, each as its tool would export it: lab-a a spreadsheet's CSV (byte-order
 * mark, capitalized header, a region cell for national phone numbers, an id column for its prompts'
 * request ids), lab-b a SIEM's JSONL (prompts with their ids among the other records), lab-c a
 * threat-intelligence platform's STIX 2.1 bundle (an identity object, indicators whose patterns
 * name one to 21 values, some joined with OR). Each file also carries a few records that must be
 * rejected, each with the error code @overlap/indicators must give it.
 */
import type { IndicatorErrorCode } from '@overlap/indicators';
import type { LabName, PlantedRecord } from './plan.js';
import { Prng } from './prng.js';
import type { PlannedPrompt } from './prompts.js';
import { eip55, p2pkhAddress } from './wallets.js';

export const LAB_FILES: Record<LabName, string> = {
  'lab-a': 'lab-a.csv',
  'lab-b': 'lab-b.jsonl',
  'lab-c': 'lab-c.json',
};

export interface Malformed {
  code: IndicatorErrorCode;
  why: string;
  /** A CSV or JSONL line, or a STIX object. */
  record: string | Record<string, unknown>;
}

const bad = (code: IndicatorErrorCode, why: string, record: Malformed['record']): Malformed => ({ code, why, record });

/** An EIP-55 address with the case of one letter flipped, and a P2PKH address with its last character changed. */
const badRng = new Prng('malformed');
const flippedEth = (() => {
  const mixed = eip55(badRng.hex(40));
  const i = mixed.search(/[a-fA-F]/);
  const c = mixed.charAt(i);
  return `eth:0x${mixed.slice(0, i)}${c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()}${mixed.slice(i + 1)}`;
})();
const brokenBtc = (() => {
  const address = p2pkhAddress(badRng.bytes(20));
  return `btc:${address.slice(0, -1)}${address.endsWith('z') ? 'y' : 'z'}`;
})();

export const MALFORMED: Record<LabName, Malformed[]> = {
  'lab-a': [
    bad(
      'REGION_REQUIRED',
      'a national phone number with an empty region cell',
      'phone,(212) 555-0142,,2024-03-02,70,,',
    ),
    bad(
      'INVALID_EMAIL',
      'a display name around the address',
      'email,Bob Example <bob.example@example.com>,,2024-04-11,,,',
    ),
    bad('INVALID_IP', 'an octet over 255', 'ip,192.0.2.256,,2024-05-01,90,,'),
    bad('INVALID_IP', 'a prefix in an ip row (ip_prefix is its own kind)', 'ip,198.51.100.0/24,,2024-05-01,90,,'),
    bad(
      'BAD_CHECKSUM',
      'an EIP-55 address with one letter in the wrong case',
      `crypto_wallet,${flippedEth},,2024-07-19,,,`,
    ),
    bad('UNKNOWN_KIND', 'a kind Overlap does not have', `sha256,${badRng.hex(64)},,2024-08-30,60,,`),
    bad(
      'BAD_RECORD',
      'eight cells under a seven-column header',
      'email,eve@example.org,,2024-06-01,80,case-0042,,extra',
    ),
    bad('INVALID_URL', 'not an http(s) URL', 'url,ftp://files.example.com/dump.tar,,2024-09-09,,,'),
    bad('INVALID_JA4', 'the raw (_r) JA4 variant', 'ja4,t13d0912h2_0123456789ab_ba9876543210_r,,2024-10-10,,,'),
    bad('EMPTY', 'an empty value cell', 'domain,,,2024-01-09,50,,'),
    bad('INVALID_ACCOUNT', 'a handle without its platform', 'account,carol_smith,,2024-11-02,,,'),
    bad('BAD_RECORD', 'a confidence that is not a number', 'email,dave@example.com,,2024-02-02,high,,'),
    bad(
      'INVALID_PROMPT',
      'a prompt of only a number, a link and a number: no word is left once normalized',
      'prompt_template,1. https://example.com/run/42 7,,2025-04-02,,,req-000000bad1',
    ),
  ],
  'lab-b': [
    bad('BAD_RECORD', 'a line cut off mid-object', '{"kind":"email","value":"dave.jones@example.com"'),
    bad('REGION_REQUIRED', 'a national phone number without a region', '{"kind":"phone","value":"020 7946 0999"}'),
    bad('INVALID_PHONE', 'a region that does not exist', '{"kind":"phone","value":"415 555 0100","region":"XX"}'),
    bad('INVALID_IP', 'two "::" in one address', '{"kind":"ip","value":"2001:db8::1::2"}'),
    bad('INVALID_DOMAIN', 'a one-label name', '{"kind":"domain","value":"localhost"}'),
    bad('INVALID_EMAIL', 'two dots in a row', '{"kind":"email","value":"some..one@example.net"}'),
    bad(
      'BAD_CHECKSUM',
      'a Base58Check address with one character changed',
      `{"kind":"crypto_wallet","value":"${brokenBtc}"}`,
    ),
    bad('INVALID_ACCOUNT', 'a handle without its platform', '{"kind":"account","value":"quiet_otter42"}'),
    bad('MISSING_FIELD', 'no kind', '{"value":"frank.berg@example.com"}'),
    bad('INVALID_URL', 'not a web URL', '{"kind":"url","value":"javascript:alert(1)"}'),
    bad(
      'BAD_RECORD',
      'a field the format does not have',
      '{"kind":"email","value":"grace@example.com","source":"honeypot"}',
    ),
    bad('BAD_RECORD', 'an array, not an object', '["ip","192.0.2.1"]'),
    bad(
      'INVALID_PAYMENT_FINGERPRINT',
      'white space in the token',
      '{"kind":"payment_fingerprint","value":"paycorp:fp 123"}',
    ),
    bad('BAD_RECORD', 'a confidence that is a string', '{"kind":"ip","value":"192.0.2.1","confidence":"high"}'),
    bad(
      'INVALID_PROMPT',
      'a prompt of only punctuation and an emoji',
      '{"kind":"prompt_template","value":"??? 🙂 !!!","id":"chatcmpl-00000000bad1"}',
    ),
  ],
  'lab-c': [
    bad('UNSUPPORTED_STIX', 'a malware object, not an indicator', {
      type: 'malware',
      name: 'distill-kit',
      is_family: true,
    }),
    bad('UNSUPPORTED_STIX', 'a Sigma rule', { pattern: 'title: suspicious token use', pattern_type: 'sigma' }),
    bad('UNSUPPORTED_STIX', 'AND joins two conditions', {
      pattern: "[email-addr:value = 'heidi@example.com' AND email-addr:display_name = 'Heidi']",
    }),
    bad('UNSUPPORTED_STIX', 'a revoked indicator', {
      pattern: "[domain-name:value = 'revoked.example']",
      revoked: true,
    }),
    bad('UNSUPPORTED_STIX', 'a WITHIN qualifier', { pattern: "[ipv4-addr:value = '203.0.113.7'] WITHIN 300 SECONDS" }),
    bad('UNSUPPORTED_STIX', 'a file hash', { pattern: `[file:hashes.'SHA-256' = '${badRng.hex(64)}']` }),
    bad('BAD_RECORD', 'an IPv6 address under ipv4-addr', { pattern: "[ipv4-addr:value = '2001:db8::5']" }),
    bad('INVALID_EMAIL', 'no @', { pattern: "[email-addr:value = 'not-an-address']" }),
    bad('INVALID_DOMAIN', 'an IP address under domain-name', { pattern: "[domain-name:value = '203.0.113.9']" }),
    bad('INVALID_URL', 'no host', { pattern: "[url:value = 'http:///nohost']" }),
    bad('BAD_RECORD', 'confidence over 100', { pattern: "[domain-name:value = 'too-sure.example']", confidence: 150 }),
  ],
};

const DAY_MS = 86_400_000;
const START = Date.UTC(2024, 0, 1);

interface Meta {
  seen: string;
  confidence?: number;
  label?: string;
}

/** A record's optional fields: when first seen, and with the given chances a confidence and a label. */
function meta(rng: Prng, labelPrefix: string, chances = { confidence: 0.8, label: 0.3 }): Meta {
  const seen = new Date(START + rng.int(547) * DAY_MS + rng.int(DAY_MS / 1000) * 1000).toISOString();
  const out: Meta = { seen: seen.replace('.000Z', 'Z') };
  if (rng.chance(chances.confidence)) out.confidence = 5 * rng.between(6, 20);
  if (rng.chance(chances.label)) out.label = `${labelPrefix}-${String(rng.between(1, 240)).padStart(4, '0')}`;
  return out;
}

/** A day of the campaign's spring 2025 (its prompts' first_seen). */
function campaignDay(rng: Prng): string {
  return new Date(Date.UTC(2025, 2, 1) + rng.int(92) * DAY_MS).toISOString().slice(0, 10);
}

/** Inserts each extra line at a random position (after the header, which the caller adds). */
function scatter<T>(rng: Prng, list: T[], extra: T[]): T[] {
  const out = [...list];
  for (const item of extra) out.splice(rng.int(out.length + 1), 0, item);
  return out;
}

const csvCell = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);

export function labACsv(records: PlantedRecord[], prompts: readonly PlannedPrompt[]): string {
  const rng = new Prng('file:lab-a');
  const rows = records.map(({ kind, spelling }) => {
    const m = meta(rng, 'case');
    const cells = [kind, spelling.value, spelling.region ?? '', m.seen.slice(0, 10), String(m.confidence ?? '')];
    return [...cells, m.label ?? '', ''].map(csvCell).join(',');
  });
  const malformed = MALFORMED['lab-a'].map((m) => m.record as string);
  const promptRng = new Prng('file:lab-a:prompts');
  const promptRows = prompts.map((p) => {
    if (/[\r\n]/.test(p.text)) throw new Error(`lab-a's prompts are one line each: ${JSON.stringify(p.text)}`);
    return ['prompt_template', p.text, '', campaignDay(promptRng), '', '', p.id].map(csvCell).join(',');
  });
  const body = scatter(promptRng, scatter(rng, rows, malformed), promptRows);
  return `\ufeffKind,Value,Region,First_Seen,Confidence,Label,Id\n${body.join('\n')}\n`;
}

export function labBJsonl(records: PlantedRecord[], prompts: readonly PlannedPrompt[]): string {
  const rng = new Prng('file:lab-b');
  const lines = records.map(({ kind, spelling }) => {
    const m = meta(rng, 'cluster', { confidence: 0.5, label: 0.15 });
    return JSON.stringify({
      kind,
      value: spelling.value,
      ...(spelling.region !== undefined && { region: spelling.region }),
      first_seen: m.seen.slice(0, 10),
      ...(m.confidence !== undefined && { confidence: m.confidence }),
      ...(m.label !== undefined && { label: m.label }),
    });
  });
  const malformed = MALFORMED['lab-b'].map((m) => m.record as string);
  const promptRng = new Prng('file:lab-b:prompts');
  const promptLines = prompts.map((p) =>
    JSON.stringify({ kind: 'prompt_template', value: p.text, first_seen: campaignDay(promptRng), id: p.id }),
  );
  return `${scatter(promptRng, scatter(rng, lines, malformed), promptLines).join('\n')}\n`;
}

const OBJECT_TYPE: Record<string, string> = { email: 'email-addr', domain: 'domain-name', url: 'url' };

function objectType({ kind, spelling }: PlantedRecord): string {
  if (kind === 'ip') return spelling.value.includes(':') ? 'ipv6-addr' : 'ipv4-addr';
  const type = OBJECT_TYPE[kind];
  if (type === undefined) throw new Error(`STIX cannot carry ${kind}`);
  return type;
}

const stixString = (value: string) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

function indicator(rng: Prng, fields: Record<string, unknown>): Record<string, unknown> {
  const m = meta(rng, 'campaign');
  const base = {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--${rng.uuid()}`,
    created: m.seen,
    modified: m.seen,
    ...(m.label !== undefined && { name: m.label }),
    pattern: '',
    pattern_type: 'stix',
    valid_from: m.seen,
    ...(m.confidence !== undefined && { confidence: m.confidence }),
  };
  return { ...base, ...fields };
}

export function labCStix(records: PlantedRecord[]): string {
  const rng = new Prng('file:lab-c');
  const objects: Record<string, unknown>[] = [];
  for (let i = 0; i < records.length; ) {
    const group = records.slice(i, i + rng.pick([1, 2, 3, 5, 8, 13, 21]));
    i += group.length;
    const comparisons = group.map((r) => `${objectType(r)}:value = ${stixString(r.spelling.value)}`);
    const oneObservation = new Set(group.map(objectType)).size === 1 && rng.chance(0.5);
    const pattern = oneObservation ? `[${comparisons.join(' OR ')}]` : comparisons.map((c) => `[${c}]`).join(' OR ');
    objects.push(indicator(rng, { pattern }));
  }
  const malformed = MALFORMED['lab-c'].map((m) => {
    const fields = m.record as Record<string, unknown>;
    if (fields.type === undefined) return indicator(rng, fields);
    const stamp = '2024-06-01T00:00:00Z';
    return {
      type: fields.type,
      spec_version: '2.1',
      id: `${fields.type}--${rng.uuid()}`,
      created: stamp,
      modified: stamp,
      ...fields,
    };
  });
  const identity = {
    type: 'identity',
    spec_version: '2.1',
    id: `identity--${rng.uuid()}`,
    created: '2024-01-01T00:00:00Z',
    modified: '2024-01-01T00:00:00Z',
    name: 'lab-c threat intelligence',
    identity_class: 'organization',
  };
  const bundle = {
    type: 'bundle',
    id: `bundle--${rng.uuid()}`,
    objects: [identity, ...scatter(rng, objects, malformed)],
  };
  return `${JSON.stringify(bundle, null, 2)}\n`;
}

/** How many rejections of each code each lab's file must produce (the identity object is one). */
export function plannedRejections(lab: LabName): Record<string, number> {
  const codes = MALFORMED[lab].map((m) => m.code);
  if (lab === 'lab-c') codes.push('UNSUPPORTED_STIX');
  const out: Record<string, number> = {};
  for (const code of codes.sort()) out[code] = (out[code] ?? 0) + 1;
  return out;
}
