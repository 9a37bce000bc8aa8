/**
 * The results directory (deliver-directory.ts): one file per format and the result document,
 * 0600 in a 0700 directory even under umask 0, the same bytes when delivered again (a redelivery
 * after a crash), each format readable back, and a session id that would make a path refused.
 */
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatResults, type SessionResults } from '@overlap/client';
import { isErrorRecord, readStix } from '@overlap/indicators';
import { beforeAll, describe, expect, it } from 'vitest';
import { deliverToDirectory } from '../src/deliver-directory.js';

const SESSION = 'fedcba9876543210fedcba9876543210';
const DOC: SessionResults = {
  session: SESSION,
  lab: 'lab-a',
  relay: 'overlap-relay/0123abcd',
  policy: { kind: 'count' },
  finished: '2025-03-01T12:00:00Z',
  results: [
    { kind: 'email', value: "o'neil@example.com", count: 1 },
    { kind: 'domain', value: 'evil.example', count: 2 },
    { kind: 'ip', value: '192.0.2.1', count: 3 },
  ].sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0)),
};

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'deliver-directory-'));
});

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('deliverToDirectory', () => {
  it('writes each format and the document, 0600 in a new 0700 directory, even under umask 0', async () => {
    const dir = join(root, 'a', 'results');
    const before = process.umask(0);
    let files: string[];
    try {
      ({ files } = await deliverToDirectory(dir, DOC, ['jsonl', 'csv', 'stix']));
    } finally {
      process.umask(before);
    }
    expect(files).toEqual([
      join(dir, `${SESSION}.results.jsonl`),
      join(dir, `${SESSION}.results.csv`),
      join(dir, `${SESSION}.results.stix.json`),
      join(dir, `${SESSION}.json`),
    ]);
    expect(await modeOf(dir)).toBe(0o700);
    expect(await modeOf(join(root, 'a'))).toBe(0o700);
    for (const file of files) expect(await modeOf(file)).toBe(0o600);
    expect((await readdir(dir)).sort()).toEqual(files.map((f) => f.slice(dir.length + 1)).sort());
  });

  it('writes formats that read back: JSON lines, CSV rows, a STIX bundle, the document', async () => {
    const dir = join(root, 'b');
    await deliverToDirectory(dir, DOC, ['jsonl', 'csv', 'stix']);
    const read = (suffix: string) => readFile(join(dir, `${SESSION}${suffix}`), 'utf8');

    const jsonl = await read('.results.jsonl');
    expect(jsonl).toBe(formatResults(DOC, 'jsonl'));
    const lines = jsonl.split('\n').filter((line) => line !== '');
    expect(lines.map((line) => JSON.parse(line))).toEqual(DOC.results);

    const csv = await read('.results.csv');
    const rows = csv.split('\r\n').filter((row) => row !== '');
    expect(rows[0]).toBe('kind,value,labs,count');
    expect(rows).toHaveLength(1 + DOC.results.length);
    expect(rows).toContain('ip,192.0.2.1,,3');

    const stix = JSON.parse(await read('.results.stix.json')) as { type: string; objects: { type: string }[] };
    expect(stix.type).toBe('bundle');
    expect(stix.objects.filter((o) => o.type === 'indicator')).toHaveLength(DOC.results.length);
    const imported: [string | undefined, string][] = [];
    for await (const record of readStix(
      (async function* () {
        yield JSON.stringify(stix);
      })(),
    ))
      if (!isErrorRecord(record)) imported.push([record.kind, record.value]);
    expect(imported.sort()).toEqual(DOC.results.map((r) => [r.kind, r.value]).sort());

    expect(JSON.parse(await read('.json'))).toEqual(DOC);
  });

  it('writes the same bytes when delivered again', async () => {
    const dir = join(root, 'c');
    const { files } = await deliverToDirectory(dir, DOC, ['jsonl', 'csv', 'stix']);
    const first = await Promise.all(files.map((f) => readFile(f)));
    const again = await deliverToDirectory(dir, structuredClone(DOC), ['jsonl', 'csv', 'stix']);
    expect(again.files).toEqual(files);
    expect(await Promise.all(files.map((f) => readFile(f)))).toEqual(first);
    expect(await readdir(dir)).toHaveLength(files.length); // no stray temporary files
  });

  it('writes JSON lines and the document by default, and an empty result set as such', async () => {
    const dir = join(root, 'd');
    const empty = { ...DOC, results: [] };
    const { files } = await deliverToDirectory(dir, empty);
    expect(files).toEqual([join(dir, `${SESSION}.results.jsonl`), join(dir, `${SESSION}.json`)]);
    expect(await readFile(files[0] as string, 'utf8')).toBe('');
    expect(JSON.parse(await readFile(files[1] as string, 'utf8'))).toEqual(empty);
  });

  it('applies the CSV guard asked for', async () => {
    const doc: SessionResults = { ...DOC, results: [{ kind: 'account', value: '=cmd|x', count: 1 }] };
    const guarded = await deliverToDirectory(join(root, 'e1'), doc, ['csv']);
    const plain = await deliverToDirectory(join(root, 'e2'), doc, ['csv'], { csvGuard: 'none' });
    expect(await readFile(guarded.files[0] as string, 'utf8')).toContain("'=cmd|x");
    expect(await readFile(plain.files[0] as string, 'utf8')).toContain('\r\naccount,=cmd|x,');
  });

  it('refuses a session id that is not 32 lowercase hex digits before making any path', async () => {
    const dir = join(root, 'f');
    await expect(deliverToDirectory(dir, { ...DOC, session: '../../escape' })).rejects.toMatchObject({
      code: 'DELIVERY_FAILED',
    });
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses an unknown format (BAD_CONFIG), and invalid results for CSV (DELIVERY_FAILED)', async () => {
    await expect(deliverToDirectory(join(root, 'g'), DOC, ['xml' as never])).rejects.toMatchObject({
      code: 'BAD_CONFIG',
    });
    const bad = { ...DOC, results: [{ kind: 'nope', value: 'secret-value', count: 1 }] };
    const error = await deliverToDirectory(join(root, 'h'), bad, ['csv']).then(
      () => new Error('delivered'),
      (e: unknown) => e as Error,
    );
    expect(error).toMatchObject({ code: 'DELIVERY_FAILED' });
    expect(error.message).not.toContain('secret-value');
  });

  it('streams a large result set', async () => {
    const results = Array.from({ length: 200_000 }, (_, i) => ({
      kind: 'email',
      value: `user${String(i).padStart(6, '0')}@example.com`,
      count: 1,
    }));
    const dir = join(root, 'large');
    const { files } = await deliverToDirectory(dir, { ...DOC, results });
    const text = await readFile(files[0] as string, 'utf8');
    expect(text.split('\n')).toHaveLength(results.length + 1);
    expect(JSON.parse(await readFile(files[1] as string, 'utf8')).results).toHaveLength(results.length);
  });
});
