/**
 * Synthetic identifiers of each planted kind, each drawn with the spellings real suspect lists use
 * for it: case, white space, subaddresses, trailing dots, IDN Unicode vs A-labels, national vs
 * international phone formats, expanded IPv6, IPv4-mapped IPv6, default ports and fragments, EIP-55
 * vs lowercase, full-width handles. Every spelling of one draw canonicalizes to the same value
 * (plan.ts checks it with @overlap/indicators for each spelling it uses).
 *
 * Only reserved names and numbers: example.com, example.net, example.org and *.example (RFC 2606),
 * 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 (RFC 5737), 2001:db8::/32 (RFC 3849), US numbers
 * 555-0100 to 555-0199 (reserved for fiction by NANPA) and Ofcom's drama ranges for the UK.
 */
import { canonicalize } from '@overlap/indicators';
import type { Prng } from './prng.js';
import { eip55, p2pkhAddress, p2wpkhAddress } from './wallets.js';

export interface Spelling {
  value: string;
  /** The record's region (phone numbers written without + or 00). */
  region?: string;
}

export const PLANTED_KINDS = [
  'email',
  'phone',
  'ip',
  'domain',
  'url',
  'crypto_wallet',
  'ja4',
  'payment_fingerprint',
  'account',
] as const;
export type PlantedKind = (typeof PLANTED_KINDS)[number];

/** One underlying identifier as its spellings, the plainest first. */
export type Draw = (rng: Prng) => Spelling[];

const words = (text: string) => text.split(' ');
const ADJECTIVES = words(
  'amber brisk calm dusky eager fallow gentle hollow ivory jolly keen lunar misty nimble olive pale quiet rapid silent tidy umber vivid windy young zesty azure bold crisp dim early',
);
const NOUNS = words(
  'otter falcon badger heron lynx marten osprey panda quail raven salmon tapir urchin viper walrus yak zebra bison cobra dingo egret ferret gecko hyena ibis jackal koala lemur moose newt',
);
const FIRST = words(
  'alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert sybil trent victor walter yara amir bianca chen dmitri esra farah goran hana ines josé zoë łukasz søren',
);
const LAST = words(
  'smith jones garcia muller rossi novak tanaka kim silva okafor nguyen larsen dubois kowalski haddad ivanova perez schmidt costa sato ali brown wilson moreau fischer berg horvat popescu santos yilmaz',
);
/** Labels that are not ASCII: their names become xn-- A-labels when canonicalized. */
const IDN_WORDS = ['bücher', 'café', 'münze', 'señal', 'résumé', 'smörgås'];

const title = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
const titleLabels = (name: string) => name.split('.').map(title).join('.');
const spell = (value: string, region?: string): Spelling => (region === undefined ? { value } : { value, region });

/** A host name under a reserved name, as its Unicode form and its lowercase ASCII form. */
function hostName(rng: Prng): { unicode: string; ascii: string; idn: boolean } {
  const idn = rng.chance(0.06);
  const word = idn ? rng.pick(IDN_WORDS) : rng.pick(ADJECTIVES);
  const label = rng.pick([
    () => `${word}-${rng.pick(NOUNS)}`,
    () => `${word}${rng.pick(NOUNS)}${rng.between(1, 99)}`,
    () => `${word}-${rng.pick(NOUNS)}-${rng.digits(3)}`,
  ])();
  const parent = rng.pick(['example', 'example', 'example.com', 'example.com', 'example.net', 'example.org']);
  const sub = rng.chance(0.3) ? `${rng.pick(['www', 'cdn', 'api', 'login', 'files', 'mx'])}.` : '';
  const unicode = `${sub}${label}.${parent}`;
  return { unicode, ascii: canonicalize('domain', unicode), idn };
}

const email: Draw = (rng) => {
  const first = rng.pick(FIRST);
  const last = rng.pick(LAST);
  const local = rng.pick([
    () => `${first}.${last}`,
    () => `${first}${last}${rng.digits(2)}`,
    () => `${first.charAt(0)}${last}${rng.between(1, 999)}`,
    () => `${first}_${last}.${rng.digits(3)}`,
    () => `${rng.pick(ADJECTIVES)}.${rng.pick(NOUNS)}${rng.digits(3)}`,
  ])();
  const idn = rng.chance(0.05);
  const unicodeDomain = idn
    ? `${rng.pick(IDN_WORDS)}.example`
    : rng.pick(['example.com', 'example.com', 'example.net', 'example.org', 'mail.example', 'corp.example']);
  const domain = canonicalize('domain', unicodeDomain);
  const tag = rng.pick(['signup', 'api', 'trial', 'x', `k${rng.digits(2)}`]);
  return [
    spell(`${local}@${domain}`),
    spell(`${local.split('.').map(title).join('.')}@${domain.toUpperCase()}`),
    spell(`${local}+${tag}@${domain}`),
    spell(`  ${local.toUpperCase()}@${domain} `),
    spell(`${local}@${titleLabels(domain)}.`),
    ...(idn
      ? [spell(`${local}@${unicodeDomain}`), spell(`${title(local)}+${tag}@${unicodeDomain.toUpperCase()}`)]
      : []),
  ];
};

let areaCodes: number[] | undefined;
/** NANP area codes under which libphonenumber accepts the fictional 555-01XX numbers. */
function usAreaCodes(): number[] {
  areaCodes ??= Array.from({ length: 800 }, (_, i) => 200 + i).filter((area) => {
    try {
      canonicalize('phone', `+1${area}5550100`);
      canonicalize('phone', `+1${area}5550199`);
      return true;
    } catch {
      return false;
    }
  });
  return areaCodes;
}

const phone: Draw = (rng) => {
  if (rng.chance(0.75)) {
    const a = rng.pick(usAreaCodes());
    const s = `01${rng.digits(2)}`;
    return [
      spell(`+1${a}555${s}`),
      spell(`+1 (${a}) 555-${s}`),
      spell(`+1-${a}-555-${s}`),
      spell(`001 ${a} 555 ${s}`),
      spell(`(${a}) 555-${s}`, 'US'),
      spell(`${a}.555.${s}`, 'US'),
      spell(`${a}555${s}`, 'us'),
      spell(`1 ${a} 555 ${s}`, 'US'),
    ];
  }
  // Ofcom's drama numbers: London 020 7946 0000-0999, Leeds 0113 496 0000-0999.
  const [area, exchange] = rng.pick([
    ['20', '7946'],
    ['113', '496'],
  ] as const);
  const line = `0${rng.digits(3)}`;
  return [
    spell(`+44${area}${exchange}${line}`),
    spell(`+44 ${area} ${exchange} ${line}`),
    spell(`+44 (0)${area} ${exchange} ${line}`),
    spell(`0${area} ${exchange} ${line}`, 'GB'),
    spell(`(0${area}) ${exchange}${line}`, 'gb'),
    spell(`0044 ${area} ${exchange} ${line}`),
  ];
};

const IPV4_NETS = ['192.0.2', '198.51.100', '203.0.113'];

function ipv4(rng: Prng): string {
  return `${rng.pick(IPV4_NETS)}.${rng.between(1, 254)}`;
}

const ip: Draw = (rng) => {
  if (rng.chance(0.075)) {
    const v4 = ipv4(rng);
    const hex = v4
      .split('.')
      .map((p) => Number(p).toString(16).padStart(2, '0'))
      .join('');
    return [spell(v4), spell(` ${v4}\t`), spell(`::ffff:${v4}`), spell(`::FFFF:${hex.slice(0, 4)}:${hex.slice(4)}`)];
  }
  const groups = [
    0x2001,
    0x0db8,
    ...Array.from({ length: 6 }, (_, i) => (i > 0 && i < 5 && rng.chance(0.45) ? 0 : rng.int(0x10000))),
  ];
  const plain = groups.map((g) => g.toString(16));
  const padded = groups.map((g) => g.toString(16).padStart(4, '0').toUpperCase());
  const canonical = canonicalize('ip', plain.join(':'));
  const zero = groups.indexOf(0);
  return [
    spell(canonical),
    spell(padded.join(':')),
    spell(plain.join(':')),
    spell(canonical.toUpperCase()),
    // "::" standing for just the first zero group: legal, and not what RFC 5952 writes.
    ...(zero >= 0 ? [spell(`${plain.slice(0, zero).join(':')}::${plain.slice(zero + 1).join(':')}`)] : []),
  ];
};

const domain: Draw = (rng) => {
  const host = hostName(rng);
  return [
    spell(host.ascii),
    spell(host.ascii.toUpperCase()),
    spell(`${host.ascii}.`),
    spell(titleLabels(host.ascii)),
    spell(` ${host.ascii} `),
    ...(host.idn ? [spell(host.unicode), spell(`${titleLabels(host.unicode)}.`)] : []),
  ];
};

const url: Draw = (rng) => {
  const https = rng.chance(0.6);
  const scheme = https ? 'https' : 'http';
  const onIp = rng.chance(0.08);
  const name = onIp ? undefined : hostName(rng);
  const host = name ? name.ascii : ipv4(rng);
  const path = rng.pick([
    () => `/api/v${rng.between(1, 3)}/${rng.pick(NOUNS)}`,
    () => `/download/${rng.hex(8)}.bin`,
    () => `/${rng.pick(ADJECTIVES)}-${rng.pick(NOUNS)}/index.html`,
    () => `/login`,
    () => `/p/${rng.hex(6)}/${rng.pick(NOUNS)}`,
    () => `/`,
  ])();
  const query = rng.chance(0.4) ? `?id=${rng.between(1, 99999)}&ref=${rng.pick(NOUNS)}` : '';
  const letter = path.search(/[a-z]/);
  const spellings = [
    spell(`${scheme}://${host}${path}${query}`),
    spell(`${scheme.toUpperCase()}://${host.toUpperCase()}${path}${query}`),
    spell(`${scheme}://${host}:${https ? 443 : 80}${path}${query}`),
    spell(`${scheme}://${host}${path}${query}#${rng.pick(['top', 'section-2', 'frag'])}`),
    spell(`${scheme}://${host}/.${path}${query}`),
    spell(`${scheme}://${host}.${path.replace(/\//g, '//')}${query}`),
    spell(`${scheme}://user@${host}${path}${query}`),
  ];
  if (letter >= 0) {
    const escaped = `%${path.charCodeAt(letter).toString(16).toUpperCase()}`;
    spellings.push(spell(`${scheme}://${host}${path.slice(0, letter)}${escaped}${path.slice(letter + 1)}${query}`));
  }
  if (!https) spellings.push(spell(`${host}${path}${query}`));
  if (name?.idn) spellings.push(spell(`${scheme}://${name.unicode}${path}${query}`));
  if (!name) {
    const decimal = host.split('.').reduce((n, part) => n * 256 + Number(part), 0);
    spellings.push(spell(`${scheme}://${decimal}${path}${query}`));
  }
  return spellings;
};

const cryptoWallet: Draw = (rng) => {
  const which = rng.next();
  const keyHash = rng.bytes(20);
  if (which < 0.6) {
    const lower = Buffer.from(keyHash).toString('hex');
    const mixed = eip55(lower);
    return [
      spell(`eth:0x${lower}`),
      spell(`ETH:0x${mixed}`),
      spell(`eth:0x${mixed}`),
      spell(`Eth:0x${lower.toUpperCase()}`),
      spell(` eth:0x${lower} `),
    ];
  }
  if (which < 0.85) {
    const address = p2pkhAddress(keyHash);
    return [spell(`btc:${address}`), spell(`BTC:${address}`), spell(` btc:${address}`)];
  }
  const address = p2wpkhAddress(keyHash);
  return [spell(`btc:${address}`), spell(`BTC:${address.toUpperCase()}`), spell(`btc:${address.toUpperCase()}`)];
};

const ja4: Draw = (rng) => {
  const a = `${rng.pick(['t', 't', 'q'])}${rng.pick(['13', '13', '12'])}${rng.pick(['d', 'i'])}${rng.digits(2)}${rng.digits(2)}${rng.pick(['h2', 'h1', '00', 'h3'])}`;
  const value = `${a}_${rng.hex(12)}_${rng.hex(12)}`;
  const [, b, c] = value.split('_') as [string, string, string];
  return [spell(value), spell(value.toUpperCase()), spell(` ${value} `), spell(`${a}_${b.toUpperCase()}_${c}`)];
};

const TOKEN_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const paymentFingerprint: Draw = (rng) => {
  const issuer = rng.pick(['paycorp', 'cardvault', 'acme-pay', 'northwind.pay']);
  const token = `fp_${Array.from({ length: 16 }, () => rng.pick([...TOKEN_ALPHABET])).join('')}`;
  return [
    spell(`${issuer}:${token}`),
    spell(`${titleLabels(issuer)}:${token}`),
    spell(`${issuer.toUpperCase()}:${token}`),
    spell(` ${issuer}:${token}\t`),
  ];
};

/** Full-width forms of printable ASCII (U+FF01–U+FF5E): what some input methods produce. */
const fullWidth = (text: string) => text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

const account: Draw = (rng) => {
  const platform = rng.pick(['devhub', 'chatapp', 'codeforge', 'videoshare']);
  const handle = rng.pick([
    () => `${rng.pick(ADJECTIVES)}_${rng.pick(NOUNS)}${rng.digits(2)}`,
    () => `${rng.pick(FIRST)}${rng.pick(LAST)}${rng.between(1, 9999)}`,
    () => `${rng.pick(NOUNS)}.${rng.pick(ADJECTIVES)}.${rng.digits(3)}`,
  ])();
  return [
    spell(`${platform}:${handle}`),
    spell(`${title(platform)}:${title(handle)}`),
    spell(`${platform.toUpperCase()}:${handle.toUpperCase()}`),
    spell(`${platform}:${fullWidth(handle)}`),
    spell(` ${platform}:${handle} `),
  ];
};

export const DRAWS: Record<PlantedKind, Draw> = {
  email,
  phone,
  ip,
  domain,
  url,
  crypto_wallet: cryptoWallet,
  ja4,
  payment_fingerprint: paymentFingerprint,
  account,
};
