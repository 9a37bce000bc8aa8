import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMPORT_FORMATS, INDICATOR_KIND_NAMES } from '@overlap/indicators';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EXIT } from '../src/index.js';
import { runInProcess } from './run-in-process.js';
import { runCli } from './support/cli-process.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'overlap-normalize-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('overlap normalize', () => {
  test('a clean CSV file: one JSON line per record, exit 0, summary on stderr', async () => {
    const path = join(dir, 'suspects.csv');
    await writeFile(path, 'kind,value,region\nemail,A+x@Example.com,\nphone,(415) 555-2671,US\nemail,a@example.com,\n');
    const { code, out, err } = await runInProcess(['normalize', path]);
    expect(code).toBe(EXIT.OK);
    expect(lines(out)).toEqual([
      { line: 2, kind: 'email', value: 'a@example.com' },
      { line: 3, kind: 'phone', value: '+14155552671' },
      { line: 4, kind: 'email', value: 'a@example.com', duplicate_of: 2 },
    ]);
    expect(err).toBe('normalize: 3 records: 3 accepted (1 duplicates), 0 rejected\n');
  });

  test('rejected records: the output is complete, the errors are in place, exit 65', async () => {
    const { code, out, err } = await runInProcess(
      ['normalize', '--kind', 'ip'],
      '192.0.2.1\n010.0.0.1\n\n2001:DB8::1\n',
    );
    expect(code).toBe(EXIT.DATA);
    expect(lines(out)).toEqual([
      { line: 1, kind: 'ip', value: '192.0.2.1' },
      { line: 2, error: { code: 'INVALID_IP', message: expect.stringContaining('010.0.0.1') } },
      { line: 4, kind: 'ip', value: '2001:db8::1' },
    ]);
    expect(err).toContain('normalize: 3 records: 2 accepted (0 duplicates), 1 rejected (INVALID_IP 1)');
  });

  test('JSONL and STIX by extension, --region for national numbers', async () => {
    const jsonl = join(dir, 'x.jsonl');
    await writeFile(jsonl, '{"kind":"phone","value":"030 1234567"}\n');
    expect(lines((await runInProcess(['normalize', '--region', 'de', jsonl])).out)).toEqual([
      { line: 1, kind: 'phone', value: '+49301234567' },
    ]);
    const stix = join(dir, 'bundle.json');
    await writeFile(
      stix,
      JSON.stringify({
        type: 'bundle',
        objects: [
          {
            type: 'indicator',
            id: 'indicator--9',
            pattern_type: 'stix',
            pattern: "[domain-name:value = 'EXAMPLE.com']",
          },
        ],
      }),
    );
    expect(lines((await runInProcess(['normalize', stix])).out)).toEqual([
      { line: 1, id: 'indicator--9', kind: 'domain', value: 'example.com' },
    ]);
  });

  test('a file that stops being CSV midway: what came before is written, then exit 65 naming the file', async () => {
    const path = join(dir, 'broken.csv');
    await writeFile(path, 'kind,value\nemail,a@b.example\nemail,"c@d.example\n');
    const { code, out, err } = await runInProcess(['normalize', path]);
    expect(code).toBe(EXIT.DATA);
    expect(lines(out)).toEqual([{ line: 2, kind: 'email', value: 'a@b.example' }]);
    expect(err).toContain(`overlap: ${path}: line 3: a quoted field opened in this record is never closed`);
  });

  test.each([
    ['an unknown --kind', ['normalize', '--kind', 'ipv4', '-'], 'unknown indicator kind'],
    ['an unknown --format', ['normalize', '--format', 'xml', '-'], 'unknown format'],
    ['a bad --region', ['normalize', '--region', 'USA', '-'], '--region must be'],
  ])('%s is a usage error (64)', async (_label, argv, message) => {
    const { code, err } = await runInProcess(argv, '');
    expect(code).toBe(EXIT.USAGE);
    expect(err).toContain(message);
  });

  test('an unknown --kind or --format is a usage error (64) naming the flag and every known value, before any output', async () => {
    const kind = await runCli(['normalize', '--kind', 'bogus'], { input: 'a@b.example\n', cwd: dir });
    expect(kind.code).toBe(EXIT.USAGE);
    expect(kind.stdout).toBe('');
    expect(kind.stderr).toContain(
      `--kind: unknown indicator kind "bogus"; known kinds: ${INDICATOR_KIND_NAMES.join(', ')}`,
    );
    const format = await runInProcess(['normalize', '--format', 'xlsx'], 'a@b.example\n');
    expect(format.code).toBe(EXIT.USAGE);
    expect(format.out).toBe('');
    expect(format.err).toContain(`--format: unknown format "xlsx"; formats: ${IMPORT_FORMATS.join(', ')}`);
    const help = await runInProcess(['normalize', '--help']);
    expect(help.out.replace(/\s+/g, ' ')).toContain(`--format <format> ${IMPORT_FORMATS.join(', ')}`);
  }, 60_000);

  test('the region comes from --region, $OVERLAP_REGION or session.region in overlap.toml, as for session run', async () => {
    const input = '{"kind":"phone","value":"030 1234567"}\n';
    const fromEnv = await runCli(['normalize', '--format', 'jsonl'], {
      input,
      cwd: dir,
      env: { OVERLAP_REGION: 'DE' },
    });
    expect(fromEnv.code, fromEnv.stderr).toBe(EXIT.OK);
    expect(lines(fromEnv.stdout)).toEqual([{ line: 1, kind: 'phone', value: '+49301234567' }]);

    const configured = join(dir, 'configured');
    await mkdir(configured);
    await writeFile(join(configured, 'overlap.toml'), '[session]\nregion = "DE"\n');
    const fromFile = await runCli(['normalize', '--format', 'jsonl'], { input, cwd: configured });
    expect(lines(fromFile.stdout)).toEqual([{ line: 1, kind: 'phone', value: '+49301234567' }]);
    // The flag beats the file: a US number is not valid as a German one and the other way round.
    const flagFirst = await runCli(['normalize', '--format', 'jsonl', '--region', 'US'], { input, cwd: configured });
    expect(flagFirst.code).toBe(EXIT.DATA);

    const bad = await runCli(['normalize'], { input, cwd: dir, env: { OVERLAP_REGION: 'Germany' } });
    expect(bad.code).toBe(EXIT.USAGE);
    expect(bad.stderr).toContain('$OVERLAP_REGION must be a two-letter ISO 3166 code, got "Germany"');
  }, 60_000);

  test('a missing or unreadable file is exit 66', async () => {
    expect((await runInProcess(['normalize', join(dir, 'absent.csv')])).code).toBe(EXIT.NO_INPUT);
    expect((await runInProcess(['normalize', dir])).code).toBe(EXIT.NO_INPUT);
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked.csv');
      await writeFile(locked, 'value\nx\n');
      await chmod(locked, 0);
      expect((await runInProcess(['normalize', locked])).code).toBe(EXIT.NO_INPUT);
    }
  });
});

describe('overlap normalize chooses the format as session run does', () => {
  test('a CSV saved as .txt is read as CSV, and says so; a workbook is refused naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overlap-normalize-sniff-'));
    try {
      const txt = join(dir, 'suspects.txt');
      writeFileSync(txt, 'kind,value\nemail,A@Example.com\nip,192.0.2.1\n');
      const read = await runInProcess(['normalize', txt]);
      expect(read.code, read.err).toBe(EXIT.OK);
      expect(read.err).toContain(`normalize: ${txt}: read as csv (`);
      expect(
        read.out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).kind),
      ).toEqual(['email', 'ip']);
      const xlsx = join(dir, 'suspects.xlsx');
      writeFileSync(xlsx, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]));
      const refused = await runInProcess(['normalize', xlsx, '--format', 'csv']);
      expect(refused.code).toBe(EXIT.DATA);
      expect(refused.err).toContain('suspects.xlsx is not a text file');
      expect(refused.out).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('overlap normalize reads a chat-completions request log (the chat format), in a child process', () => {
  const user = (content: unknown) => ({ role: 'user', content });
  const log = [
    {
      custom_id: 'req-1',
      method: 'POST',
      url: '/v1/chat/completions',
      body: {
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          user('Explain your reasoning step by step.'),
        ],
      },
    },
    {
      custom_id: 'req-2',
      method: 'POST',
      url: '/v1/chat/completions',
      body: {
        messages: [
          user('Solve it.'),
          { role: 'assistant', content: 'Done.' },
          user([
            { type: 'text', text: 'Grade the answer below: 42' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ]),
        ],
      },
    },
    { messages: [user('Explain your reasoning step by step!')], id: 'req-3' },
    { custom_id: 'req-4', method: 'POST', url: '/v1/embeddings', body: { messages: [user('x')] } },
    { messages: [{ role: 'system', content: 'only a system prompt' }], id: 'req-5' },
  ]
    .map((line) => JSON.stringify(line))
    .join('\n');
  const expected = [
    { line: 1, id: 'req-1', kind: 'prompt_template', value: 'explain your reasoning step by step' },
    { line: 2, id: 'req-2', kind: 'prompt_template', value: 'grade the answer below <num>' },
    { line: 3, id: 'req-3', kind: 'prompt_template', value: 'explain your reasoning step by step', duplicate_of: 1 },
    {
      line: 4,
      id: 'req-4',
      error: { code: 'BAD_RECORD', message: 'line 4: url: must be "/v1/chat/completions" (is "/v1/embeddings")' },
    },
    {
      line: 5,
      id: 'req-5',
      error: { code: 'MISSING_FIELD', message: 'line 5 has no user text: no message has role "user"' },
    },
  ];

  test('a .jsonl file of requests is read as chat, and says why; each request its last user turn, exit 65 for the bad lines', async () => {
    const path = join(dir, 'requests.jsonl');
    await writeFile(path, `${log}\n`);
    const { code, stdout, stderr } = await runCli(['normalize', path], { cwd: dir });
    expect(code, stderr).toBe(EXIT.DATA);
    expect(lines(stdout)).toEqual(expected);
    expect(stderr).toContain(
      `normalize: ${path}: read as chat (the file name ends in .jsonl, and the first line is a Batch API request line with a "messages" array in "body")`,
    );
    expect(stderr).toContain(
      'normalize: 5 records: 3 accepted (1 duplicates), 2 rejected (BAD_RECORD 1, MISSING_FIELD 1)',
    );
  }, 60_000);

  test('--format chat on standard input; --format jsonl on the same log names the chat format', async () => {
    const stdin = await runCli(['normalize', '--format', 'chat', '-'], { input: log, cwd: dir });
    expect(stdin.code, stdin.stderr).toBe(EXIT.DATA);
    expect(lines(stdin.stdout)).toEqual(expected);
    const asJsonl = await runCli(['normalize', '--format', 'jsonl'], { input: log, cwd: dir });
    expect(asJsonl.code).toBe(EXIT.DATA);
    expect(lines(asJsonl.stdout)[0]).toEqual({
      line: 1,
      error: {
        code: 'MISSING_FIELD',
        message: 'line 1 has no "value" (a chat-completions request? read the file in the chat format)',
      },
    });
  }, 60_000);

  test('a JSONL record may carry a context object of the lab’s own fields: accepted, not written out', async () => {
    const input = [
      { kind: 'prompt_template', value: 'Explain your reasoning step by step.', id: 'r1', context: { account: 'u-9' } },
      { kind: 'prompt_template', value: 'Rewrite this.', context: ['not an object'] },
    ]
      .map((line) => JSON.stringify(line))
      .join('\n');
    const { code, stdout } = await runCli(['normalize', '--format', 'jsonl'], { input, cwd: dir });
    expect(code).toBe(EXIT.DATA);
    expect(lines(stdout)).toEqual([
      { line: 1, id: 'r1', kind: 'prompt_template', value: 'explain your reasoning step by step' },
      { line: 2, error: { code: 'BAD_RECORD', message: 'line 2: context: must be a JSON object' } },
    ]);
  }, 60_000);
});
