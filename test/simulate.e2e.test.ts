/**
 * `overlap simulate` end to end — a relay, the admin, one lab process each over HTTP — for 2, 3 and
 * 5 labs under every reveal policy. Each lab's results file must equal what this test computes on
 * its own from the plaintext: every raw value canonicalized, the sets intersected, the policy
 * applied. Inputs are messy (mixed case, spacing, formats) so that canonicalization matters.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTranscript, verifyTranscript } from '@overlap/audit';
import { runProgram } from '@overlap/cli';
import { canonicalize } from '@overlap/indicators';
import { parseSignedNote } from '@overlap/log';
import { afterAll, describe, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'overlap-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NAMES = ['lab-a', 'lab-b', 'lab-c', 'lab-d', 'lab-e'];

/** Raw (kind, value) records of lab i of n: shared by all, by some, and its own, spelled messily. */
function rawRecords(i: number, n: number): { kind: string; value: string }[] {
  const out: { kind: string; value: string }[] = [];
  const messy = (email: string) => (i % 2 === 0 ? email.toUpperCase() : ` ${email} `);
  for (let k = 0; k < 6; k++) out.push({ kind: 'email', value: messy(`all${k}@shared.example`) });
  for (let k = 0; k < 4; k++)
    out.push({ kind: 'ip', value: i % 2 === 0 ? `203.0.113.${10 + k}` : `::ffff:203.0.113.${10 + k}` });
  // A suspect held by labs i and i+1 (mod n), and one by every lab but i.
  out.push({
    kind: 'email',
    value: messy(`pair${Math.min(i, (i + 1) % n)}-${Math.max(i, (i + 1) % n)}@pairs.example`),
  });
  out.push({
    kind: 'email',
    value: messy(`pair${Math.min(i, (i + n - 1) % n)}-${Math.max(i, (i + n - 1) % n)}@pairs.example`),
  });
  for (let j = 0; j < n; j++) if (j !== i) out.push({ kind: 'domain', value: `NOT-${j}.Example.ORG.` });
  for (let k = 0; k < 5; k++) out.push({ kind: 'email', value: `own${i}-${k}@lab.example` });
  return out;
}

function writeInput(i: number, n: number, tag: string): string {
  const records = rawRecords(i, n);
  const base = join(dir, `${tag}-${NAMES[i]}`);
  if (i % 3 === 0) {
    const path = `${base}.csv`;
    writeFileSync(path, `kind,value\n${records.map((r) => `${r.kind},"${r.value}"`).join('\n')}\n`);
    return path;
  }
  if (i % 3 === 1) {
    const path = `${base}.jsonl`;
    writeFileSync(path, records.map((r) => JSON.stringify(r)).join('\n'));
    return path;
  }
  const path = `${base}.json`;
  const pattern = (r: { kind: string; value: string }) =>
    r.kind === 'email'
      ? `[email-addr:value = '${r.value}']`
      : r.kind === 'ip'
        ? `[ipv4-addr:value = '${r.value}']`
        : `[domain-name:value = '${r.value}']`;
  writeFileSync(
    path,
    JSON.stringify({
      type: 'bundle',
      id: 'bundle--6f0bcd1e-0a3c-4b8a-9c1f-2b7e5a8d9c01',
      objects: records.map((r, k) => ({
        type: 'indicator',
        spec_version: '2.1',
        id: `indicator--${String(k).padStart(8, '0')}-0000-4000-8000-000000000000`,
        created: '2026-11-01T00:00:00.000Z',
        modified: '2026-11-01T00:00:00.000Z',
        pattern: pattern(r),
        pattern_type: 'stix',
        valid_from: '2026-11-01T00:00:00.000Z',
      })),
    }),
  );
  return path;
}

/** What each lab must see, from the plaintext alone. */
function truth(n: number, reveal: string): Map<string, string[]> {
  const sets = Array.from(
    { length: n },
    (_, i) => new Set(rawRecords(i, n).map((r) => `${r.kind}\u0000${canonicalize(r.kind, r.value)}`)),
  );
  const t = reveal.startsWith('threshold:') ? Number(reveal.slice(10)) : 0;
  const out = new Map<string, string[]>();
  for (let i = 0; i < n; i++) {
    const lines: string[] = [];
    for (const item of [...(sets[i] as Set<string>)].sort()) {
      const [kind, value] = item.split('\u0000') as [string, string];
      const others = NAMES.slice(0, n).filter((_, j) => j !== i && (sets[j] as Set<string>).has(item));
      if (reveal === 'labs' && others.length > 0) lines.push(JSON.stringify({ kind, value, labs: others.sort() }));
      if (reveal === 'count' && others.length > 0) lines.push(JSON.stringify({ kind, value, count: others.length }));
      if (t > 0 && others.length + 1 >= t) lines.push(JSON.stringify({ kind, value }));
    }
    out.set(NAMES[i] as string, lines);
  }
  return out;
}

/** A results line without what traces it back to the lab's input (its line, its record id). */
function withoutTrace(line: string): string {
  const { line: _line, id: _id, ...row } = JSON.parse(line) as Record<string, unknown>;
  return JSON.stringify(row);
}

const cases: [number, string][] = [
  [2, 'labs'],
  [2, 'count'],
  [2, 'threshold:2'],
  [3, 'labs'],
  [3, 'count'],
  [3, 'threshold:3'],
  [5, 'labs'],
  [5, 'count'],
  [5, 'threshold:4'],
];

describe('overlap simulate, end to end', () => {
  test.each(cases)(
    '%i labs, reveal %s: every results file equals the plaintext truth',
    async (n, reveal) => {
      const tag = `${n}-${reveal.replace(':', '')}`;
      const labs = Array.from({ length: n }, (_, i) => `${NAMES[i]}=${writeInput(i, n, tag)}`);
      const out = join(dir, `out-${tag}`);
      let stdout = '';
      let stderr = '';
      const code = await runProgram(
        ['simulate', ...labs.flatMap((l) => ['--lab', l]), '--reveal', reveal, '--out', out, '--json'],
        {
          out: (text) => {
            stdout += text;
          },
          err: (text) => {
            stderr += text;
          },
        },
      );
      expect(code, stderr).toBe(0);
      const summary = JSON.parse(stdout) as { labs: { name: string; rejected: number }[]; reveal: string };
      expect(summary.reveal).toBe(reveal);
      expect(summary.labs.every((l) => l.rejected === 0)).toBe(true);
      const expected = truth(n, reveal);
      for (const name of NAMES.slice(0, n)) {
        const got = readFileSync(join(out, `${name}.results.jsonl`), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map(withoutTrace);
        expect(got, name).toEqual(expected.get(name));
      }
      // The auditor's view of the same run: every check holds, the results recomputed included.
      const audit = verifyTranscript(readFileSync(join(out, 'transcript.cbor')));
      expect(audit.checks.filter((c) => c.ok !== true)).toEqual([]);
    },
    120_000,
  );

  test('with --witnesses 2: the relay has them cosign, every lab waits for both, and the transcript carries their note', async () => {
    const labs = [0, 1].map((i) => `${NAMES[i]}=${writeInput(i, 2, 'witnesses')}`);
    const out = join(dir, 'out-witnesses');
    let stderr = '';
    const code = await runProgram(
      ['simulate', ...labs.flatMap((l) => ['--lab', l]), '--witnesses', '2', '--out', out, '--json'],
      {
        out: () => {},
        err: (text) => {
          stderr += text;
        },
      },
    );
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(
      /2 witnesses of its log: http:\/\/127\.0\.0\.1:\d+, http:\/\/127\.0\.0\.1:\d+; every lab requires them all/,
    );
    const expected = truth(2, 'labs');
    for (const name of NAMES.slice(0, 2)) {
      const got = readFileSync(join(out, `${name}.results.jsonl`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(withoutTrace);
      expect(got, name).toEqual(expected.get(name));
    }
    const transcript = readTranscript(readFileSync(join(out, 'transcript.cbor')));
    const witnessed = transcript.witnessed as { size: number; note: string };
    expect(witnessed.size).toBeGreaterThan(Math.max(...transcript.envelopes.map((e) => e.index)));
    expect(
      parseSignedNote(witnessed.note)
        .signatures.map((line) => line.name)
        .sort(),
    ).toEqual([transcript.relay.origin, 'witness-1.simulate.example', 'witness-2.simulate.example']);
  }, 120_000);
});
