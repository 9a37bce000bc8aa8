/**
 * A record's own id — a CSV or TSV `id` column, a JSONL `id` field, a STIX object's id, a chat
 * line's `custom_id` or `id` — comes out
 * of the importers and the normalizer with the record, accepted or rejected, so a lab can find the
 * record in its own systems.
 */
import { describe, expect, test } from 'vitest';
import type { ImportFormat } from '../src/index.js';
import { type NormalizedRecord, normalizeRecords, readRecords } from '../src/index.js';

async function* source(text: string): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(text);
}

async function normalized(format: ImportFormat, text: string): Promise<NormalizedRecord[]> {
  const out: NormalizedRecord[] = [];
  for await (const r of normalizeRecords(readRecords(format, source(text)))) out.push(r);
  return out;
}

describe('ids', () => {
  test.each([
    ['csv', 'ID,kind,value,label\nacct-1,email,A@B.example,first\n,email,c@d.example,\nacct-3,ip,999.1.1.1,\n'],
    [
      'tsv',
      'id\tkind\tvalue\tlabel\nacct-1\temail\tA@B.example\tfirst\n\temail\tc@d.example\t\nacct-3\tip\t999.1.1.1\t\n',
    ],
    [
      'jsonl',
      [
        '{"id":"acct-1","kind":"email","value":"A@B.example","label":"first"}',
        '{"id":"","kind":"email","value":"c@d.example"}',
        '{"id":"acct-3","kind":"ip","value":"999.1.1.1"}',
      ].join('\n'),
    ],
  ] as const)(
    '%s: an id column or field is the record id; empty is none; a rejected record keeps it',
    async (format, text) => {
      const records = await normalized(format, text);
      const line = format === 'jsonl' ? 0 : 1;
      expect(records).toEqual([
        { line: line + 1, id: 'acct-1', kind: 'email', value: 'a@b.example', label: 'first' },
        { line: line + 2, kind: 'email', value: 'c@d.example' },
        { line: line + 3, id: 'acct-3', error: expect.objectContaining({ code: 'INVALID_IP' }) },
      ]);
    },
  );

  test('a JSONL record refused for its fields keeps its id', async () => {
    expect(await normalized('jsonl', '{"id":"x-9","value":"a@b.example","kind":"email","confidence":200}\n')).toEqual([
      { line: 1, id: 'x-9', error: expect.objectContaining({ code: 'BAD_RECORD' }) },
    ]);
  });

  test('a JSONL id that is not a string is a BAD_RECORD, not an id', async () => {
    expect(await normalized('jsonl', '{"id":7,"value":"a@b.example","kind":"email"}\n')).toEqual([
      { line: 1, error: expect.objectContaining({ code: 'BAD_RECORD', message: expect.stringContaining('id') }) },
    ]);
  });

  test('a chat line gives its custom_id, else its request id; a prompt refused by the kind keeps it', async () => {
    const text = [
      '{"custom_id":"b-1","url":"/v1/chat/completions","body":{"id":"not-this","messages":[{"role":"user","content":"Grade this."}]}}',
      '{"id":"r-2","messages":[{"role":"user","content":"12 34"}]}',
      '{"id":"","messages":[{"role":"user","content":"Rewrite this."}]}',
    ].join('\n');
    expect(await normalized('chat', text)).toEqual([
      { line: 1, id: 'b-1', kind: 'prompt_template', value: 'grade this' },
      { line: 2, id: 'r-2', error: expect.objectContaining({ code: 'INVALID_PROMPT' }) },
      { line: 3, kind: 'prompt_template', value: 'rewrite this' },
    ]);
  });

  test('a STIX indicator gives its object id and name', async () => {
    const bundle = JSON.stringify({
      type: 'bundle',
      id: 'bundle--1',
      objects: [
        {
          type: 'indicator',
          id: 'indicator--0b2c',
          name: 'phish kit',
          pattern_type: 'stix',
          pattern: "[email-addr:value = 'A@B.example']",
        },
      ],
    });
    expect(await normalized('stix', bundle)).toEqual([
      { line: 1, id: 'indicator--0b2c', kind: 'email', value: 'a@b.example', label: 'phish kit' },
    ]);
  });
});
