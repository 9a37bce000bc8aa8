/**
 * `pnpm bench indicators`: canonicalized records per second for every kind on one core (the
 * calling thread), and end to end — CSV parsed, canonicalized, duplicates found — for a 500,000-row
 * file streamed from memory. Targets: email, ip, domain >= 100,000/s; phone >= 20,000/s.
 */
import { cpus } from 'node:os';
import { canonicalize, emptySummary, normalizeRecords, readCsv } from '@overlap/indicators';

const line = (text: string) => process.stdout.write(`${text}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Realistic raw inputs, each a little different and not yet canonical. */
const INPUTS: Record<string, [(i: number) => string, { region?: string }?]> = {
  email: [(i) => ` User.Name${i}+tag${i % 7}@Example${i % 50}.COM `],
  phone: [(i) => `(415) 555-${String(1000 + (i % 9000))}`, { region: 'US' }],
  ip: [(i) => `${(i % 223) + 1}.${i % 256}.${(i >> 8) % 256}.${(i * 7) % 256}`],
  ip_prefix: [(i) => `10.${i % 256}.${(i >> 8) % 256}.77/24`],
  domain: [(i) => `Sub${i}.Example${i % 97}.co.uk.`],
  registrable_domain: [(i) => `a${i}.b.example${i % 97}.co.uk`],
  url: [(i) => `HTTP://Example${i % 97}.com/a/../b${i}/%7Euser?q=${i}#frag`],
  account: [(i) => `GitHub:User${i}`],
  payment_fingerprint: [(i) => `Stripe:fp_${i}X`],
  crypto_wallet: [
    (i) =>
      i % 2 === 0 ? 'eth:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' : 'btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4',
  ],
  asn: [(i) => `as ${i}`],
  ja4: [() => 'T13D1516H2_8DAAF6152771_B186095E22B6'],
  ja4h: [() => 'PO10NN060000_CDB958D032B0'],
};

function ratePerKind(kind: string, make: (i: number) => string, options: { region?: string }, n: number): number {
  const inputs = Array.from({ length: n }, (_, i) => make(i));
  for (let i = 0; i < Math.min(n, 5000); i++) canonicalize(kind, inputs[i] as string, options); // warm up
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    for (const input of inputs) canonicalize(kind, input, options);
    best = Math.min(best, performance.now() - start);
  }
  return (n * 1000) / best;
}

line(
  `pnpm bench indicators — ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
);
line('');
line('records/s, one core, canonicalize only (best of 3)');
const targets: Record<string, number> = { email: 100_000, ip: 100_000, domain: 100_000, phone: 20_000 };
for (const [kind, [make, options = {}]] of Object.entries(INPUTS)) {
  const rate = ratePerKind(kind, make, options, kind === 'phone' || kind === 'crypto_wallet' ? 50_000 : 200_000);
  const target = targets[kind];
  const verdict =
    target === undefined
      ? ''
      : rate >= target
        ? `  (target ${fmt(target)}: met)`
        : `  (target ${fmt(target)}: NOT MET)`;
  line(`  ${kind.padEnd(20)} ${fmt(rate).padStart(11)}${verdict}`);
}

const rows = 500_000;
async function* csv(): AsyncGenerator<string> {
  yield 'kind,value\n';
  for (let i = 0; i < rows; i += 1000) {
    let block = '';
    for (let j = i; j < i + 1000; j++) {
      block +=
        j % 3 === 0
          ? `email,User${j % 100_000}+x@Example.com\n`
          : j % 3 === 1
            ? `ip,192.0.${j % 256}.${(j >> 8) % 256}\n`
            : `domain,Host${j}.Example.org\n`;
    }
    yield block;
  }
}
const summary = emptySummary();
const start = performance.now();
for await (const _ of normalizeRecords(readCsv(csv()), {}, summary)) {
  // consume
}
const ms = performance.now() - start;
line('');
line(`end to end: ${fmt(rows)} CSV rows (email, ip, domain) parsed, canonicalized and deduplicated`);
line(
  `  ${fmt((rows * 1000) / ms)} records/s, ${(ms / 1000).toFixed(2)} s; ${fmt(summary.duplicates)} duplicates, ${summary.rejected} rejected`,
);
line(
  `  heap in use after the run: ${fmt(process.memoryUsage().heapUsed / 1048576)} MiB (the input is streamed; the duplicate index holds the distinct values)`,
);
