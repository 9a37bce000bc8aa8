/**
 * The `chat` import format (spec/indicators.md §3): JSON lines of chat-completions request logs —
 * a request body with `messages`, or an OpenAI Batch API input line — each read as one
 * `prompt_template` record whose value is the text of the request's last user turn; every bad line
 * is an error record with its line, never dropped, and never quoting the prompt.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { linesUpTo } from '../src/import/lines.js';
import {
  CHAT_COMPLETIONS_URL,
  chatLineShape,
  chatRecord,
  emptySummary,
  IMPORT_FORMATS,
  isErrorRecord,
  MAX_CHAT_LINE_LENGTH,
  MAX_LINE_LENGTH,
  normalizeRecords,
  parseImportFormat,
  type RawRecord,
  readChat,
  readJsonl,
  readRecords,
} from '../src/index.js';

/** A text source delivered in small chunks, so lines fall across chunks. */
async function* chunks(text: string, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function read(...lines: unknown[]): Promise<RawRecord[]> {
  const text = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');
  const out: RawRecord[] = [];
  for await (const r of readChat(chunks(text))) out.push(r);
  return out;
}

async function one(line: unknown): Promise<RawRecord> {
  const records = await read(line);
  expect(records).toHaveLength(1);
  return records[0] as RawRecord;
}

const user = (content: unknown) => ({ role: 'user', content });

describe('chat: a chat-completions request body', () => {
  test('the value is the user message; the other request fields are ignored; id is the record id', async () => {
    const request = {
      model: 'gpt-4o',
      temperature: 0.2,
      stream: false,
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      response_format: { type: 'json_object' },
      messages: [user('Explain your reasoning step by step.')],
      id: 'req-17',
    };
    expect(await one(request)).toEqual({
      line: 1,
      kind: 'prompt_template',
      value: 'Explain your reasoning step by step.',
      id: 'req-17',
    });
  });

  test('without an id, or with an empty one, the record has none', async () => {
    expect(await read({ messages: [user('a')] }, { messages: [user('b')], id: '' })).toEqual([
      { line: 1, kind: 'prompt_template', value: 'a' },
      { line: 2, kind: 'prompt_template', value: 'b' },
    ]);
  });

  test('the prompt is the last user message; system, developer, assistant and tool messages are not the prompt', async () => {
    const request = {
      messages: [
        { role: 'system', content: 'You are a grader.' },
        { role: 'developer', content: [{ type: 'text', text: 'Be terse.' }] },
        user('First question'),
        { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function' }] },
        { role: 'tool', tool_call_id: 't1', content: 'tool output' },
        { role: 'assistant', content: 'An answer' },
        user('Second question'),
        { role: 'function', name: 'legacy', content: 'legacy output' },
      ],
    };
    expect(await one(request)).toMatchObject({ value: 'Second question' });
  });

  test('a conversation logged a request per turn: each line gives its own turn, once', async () => {
    const turn1 = [user('Solve 2 + 2 and show your reasoning.')];
    const turn2 = [...turn1, { role: 'assistant', content: '4' }, user('Now explain each step.')];
    const turn3 = [...turn2, { role: 'assistant', content: 'Step 1 …' }, user('Grade your answer.')];
    expect((await read({ messages: turn1 }, { messages: turn2 }, { messages: turn3 })).map((r) => r)).toEqual([
      { line: 1, kind: 'prompt_template', value: 'Solve 2 + 2 and show your reasoning.' },
      { line: 2, kind: 'prompt_template', value: 'Now explain each step.' },
      { line: 3, kind: 'prompt_template', value: 'Grade your answer.' },
    ]);
  });

  test('the last turn is every user message right before the last one, joined with a blank line', async () => {
    const request = {
      messages: [
        user('An earlier turn'),
        { role: 'assistant', content: 'ok' },
        user('Grade the essay below against the rubric.'),
        user('The essay: …'),
      ],
    };
    expect(await one(request)).toMatchObject({ value: 'Grade the essay below against the rubric.\n\nThe essay: …' });
  });

  test('a request after a tool call, or with an assistant prefill, still has the last user turn as its prompt', async () => {
    const afterTool = {
      messages: [
        user('Look it up and reason step by step.'),
        { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function' }] },
        { role: 'tool', tool_call_id: 't1', content: 'result' },
      ],
    };
    const prefill = { messages: [user('Answer in JSON.'), { role: 'assistant', content: '{' }] };
    expect(await read(afterTool, prefill)).toMatchObject([
      { value: 'Look it up and reason step by step.' },
      { value: 'Answer in JSON.' },
    ]);
  });

  test('only the last turn’s contents are read: an earlier user message is not checked', async () => {
    const request = { messages: [user(5), { role: 'assistant', content: 'x' }, user('ok')] };
    expect(await one(request)).toMatchObject({ value: 'ok' });
  });

  test('content parts: text parts joined with a line break; image, audio, file and other parts skipped', async () => {
    const content = [
      { type: 'text', text: 'Describe this picture.' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'high' } },
      { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
      { type: 'file', file: { file_id: 'file-1' } },
      { type: 'refusal', refusal: 'no' },
      { type: 'text', text: 'Then grade it.' },
    ];
    expect(await one({ messages: [user(content), user([{ type: 'text', text: 'And again.' }])] })).toMatchObject({
      value: 'Describe this picture.\nThen grade it.\n\nAnd again.',
    });
  });

  test('empty texts of the turn are left out: an empty string, an empty text part, a message of images only', async () => {
    const request = {
      messages: [
        user(''),
        user('one'),
        user([{ type: 'image_url', image_url: { url: 'https://x.example/a.png' } }]),
        user([
          { type: 'text', text: '' },
          { type: 'text', text: 'two' },
        ]),
        user([]),
      ],
    };
    expect(await one(request)).toMatchObject({ value: 'one\n\ntwo' });
  });

  test('the text is kept as written (white space and all): canonicalization is the kind’s', async () => {
    expect(await one({ messages: [user('  Grade\tthe\r\nanswer  ')] })).toMatchObject({
      value: '  Grade\tthe\r\nanswer  ',
    });
  });

  test('a message of another role is not read beyond its role: its content may be anything', async () => {
    const request = {
      messages: [
        { role: 'assistant', content: { odd: true } },
        { role: 'system', content: 5 },
        { role: 'tool' },
        user('ok'),
      ],
    };
    expect(await one(request)).toMatchObject({ value: 'ok' });
  });

  test('a request that also has a body field is still a request (messages decides)', async () => {
    expect(await one({ messages: [user('ok')], body: { messages: [user('not this')] } })).toMatchObject({
      value: 'ok',
    });
  });
});

describe('chat: an OpenAI Batch API input line', () => {
  const batchLine = (extra: Record<string, unknown> = {}) => ({
    custom_id: 'request-1',
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', max_tokens: 1000, messages: [{ role: 'system', content: 's' }, user('Hello')] },
    ...extra,
  });

  test('custom_id is the record id; the body is read as a request', async () => {
    expect(await one(batchLine())).toEqual({ line: 1, kind: 'prompt_template', value: 'Hello', id: 'request-1' });
  });

  test('without custom_id (or with an empty one), the body’s id is the record id; without either, none', async () => {
    const body = { messages: [user('Hello')], id: 'body-id' };
    expect(await read(batchLine({ custom_id: undefined, body }), batchLine({ custom_id: '', body }))).toEqual([
      { line: 1, kind: 'prompt_template', value: 'Hello', id: 'body-id' },
      { line: 2, kind: 'prompt_template', value: 'Hello', id: 'body-id' },
    ]);
    expect(await one({ url: '/v1/chat/completions', body: { messages: [user('Hello')] } })).toEqual({
      line: 1,
      kind: 'prompt_template',
      value: 'Hello',
    });
  });

  test.each([
    ['another endpoint', { url: '/v1/embeddings' }, 'url: must be "/v1/chat/completions" (is "/v1/embeddings")'],
    ['the Responses endpoint', { url: '/v1/responses' }, 'url: must be "/v1/chat/completions" (is "/v1/responses")'],
    ['no url', { url: undefined }, 'url: must be "/v1/chat/completions"'],
    ['a method other than POST', { method: 'GET' }, 'method: must be "POST" (is "GET")'],
    ['a custom_id that is not a string', { custom_id: 17 }, 'custom_id: must be a string'],
    ['no body', { body: undefined }, 'body: must be an object (a chat-completions request body)'],
    ['a body that is not an object', { body: 'x' }, 'body: must be an object (a chat-completions request body)'],
    ['a body without messages', { body: { model: 'm' } }, 'body.messages: must be an array of messages'],
    ['a body with a bad message', { body: { messages: [user(7)] } }, 'body.messages[0].content: must be a string or'],
    ['a body with a message of no role', { body: { messages: [{ content: 'x' }] } }, 'body.messages[0].role: must be'],
  ])('%s is BAD_RECORD, keeping the id', async (_label, extra, message) => {
    const record = await one({ ...batchLine(), ...extra });
    const id = typeof (extra as { custom_id?: unknown }).custom_id === 'number' ? undefined : 'request-1';
    expect(record).toEqual({
      line: 1,
      ...(id !== undefined && { id }),
      error: { code: 'BAD_RECORD', message: expect.stringContaining(`line 1: ${message}`) },
    });
  });

  test('a Batch API line with no user text is MISSING_FIELD, keeping the id', async () => {
    expect(await one(batchLine({ body: { messages: [user([{ type: 'image_url', image_url: {} }])] } }))).toEqual({
      line: 1,
      id: 'request-1',
      error: {
        code: 'MISSING_FIELD',
        message: 'line 1 has no user text: the last user turn (body.messages[0]) holds none',
      },
    });
    expect(await one(batchLine({ body: { messages: [{ role: 'system', content: 's' }] } }))).toEqual({
      line: 1,
      id: 'request-1',
      error: { code: 'MISSING_FIELD', message: 'line 1 has no user text: no message has role "user"' },
    });
  });

  test('CHAT_COMPLETIONS_URL is the one url', () => {
    expect(CHAT_COMPLETIONS_URL).toBe('/v1/chat/completions');
  });
});

describe('chat: rejections', () => {
  test.each([
    ['not JSON', '{"messages": [', 'BAD_RECORD', 'line 1 is not valid JSON'],
    ['a JSON array', '[{"role":"user","content":"x"}]', 'BAD_RECORD', 'line 1 is not a JSON object'],
    ['a JSON string', '"hello"', 'BAD_RECORD', 'line 1 is not a JSON object'],
    ['a number', '42', 'BAD_RECORD', 'line 1 is not a JSON object'],
    ['null', 'null', 'BAD_RECORD', 'line 1 is not a JSON object'],
    [
      'an object without messages',
      { model: 'gpt-4o', prompt: 'Say hi' },
      'BAD_RECORD',
      'line 1 has no "messages" array: not a chat-completions request, nor a Batch API line (with "body")',
    ],
    ['a JSONL record', { kind: 'prompt_template', value: 'x' }, 'BAD_RECORD', 'line 1 has no "messages" array'],
    [
      'messages that are not an array',
      { messages: 'hi' },
      'BAD_RECORD',
      'line 1: messages: must be an array of messages',
    ],
    ['messages: null', { messages: null }, 'BAD_RECORD', 'line 1: messages: must be an array of messages'],
    [
      'a message that is not an object',
      { messages: [user('a'), 'b'] },
      'BAD_RECORD',
      'line 1: messages[1]: must be an object',
    ],
    ['a message that is an array', { messages: [[user('a')]] }, 'BAD_RECORD', 'line 1: messages[0]: must be an object'],
    [
      'a message without a role',
      { messages: [{ content: 'a' }] },
      'BAD_RECORD',
      'line 1: messages[0].role: must be a string',
    ],
    [
      'a role that is not a string',
      { messages: [{ role: 1, content: 'a' }] },
      'BAD_RECORD',
      'messages[0].role: must be a string',
    ],
    [
      'user content that is a number',
      { messages: [user(5)] },
      'BAD_RECORD',
      'line 1: messages[0].content: must be a string or an array of content parts',
    ],
    [
      'user content null',
      { messages: [user(null)] },
      'BAD_RECORD',
      'messages[0].content: must be a string or an array',
    ],
    [
      'user content missing',
      { messages: [{ role: 'user' }] },
      'BAD_RECORD',
      'messages[0].content: must be a string or',
    ],
    [
      'user content that is one part, not an array',
      { messages: [user({ type: 'text', text: 'a' })] },
      'BAD_RECORD',
      'messages[0].content: must be a string or an array of content parts',
    ],
    [
      'a part that is not an object',
      { messages: [user(['a'])] },
      'BAD_RECORD',
      'line 1: messages[0].content[0]: must be an object',
    ],
    [
      'a part without a type',
      { messages: [user([{ text: 'a' }])] },
      'BAD_RECORD',
      'messages[0].content[0].type: must be a string',
    ],
    [
      'a text part whose text is not a string',
      {
        messages: [
          user([
            { type: 'text', text: 'a' },
            { type: 'text', text: ['b'] },
          ]),
        ],
      },
      'BAD_RECORD',
      'line 1: messages[0].content[1].text: must be a string',
    ],
    [
      'a text part without text',
      { messages: [user([{ type: 'text' }])] },
      'BAD_RECORD',
      'messages[0].content[0].text: must be a string',
    ],
    ['an id that is not a string', { messages: [user('a')], id: 17 }, 'BAD_RECORD', 'line 1: id: must be a string'],
    ['no messages at all', { messages: [] }, 'MISSING_FIELD', 'line 1 has no user text: no message has role "user"'],
    [
      'no user message',
      { messages: [{ role: 'system', content: 'You grade answers.' }] },
      'MISSING_FIELD',
      'no user text',
    ],
    ['a role written otherwise', { messages: [{ role: 'User', content: 'a' }] }, 'MISSING_FIELD', 'no user text'],
    [
      'only empty user text',
      { messages: [user(''), user([{ type: 'text', text: '' }])] },
      'MISSING_FIELD',
      'line 1 has no user text: the last user turn (messages[0] to messages[1]) holds none',
    ],
    [
      'text in an earlier turn only',
      { messages: [user('a'), { role: 'assistant', content: 'b' }, user('')] },
      'MISSING_FIELD',
      'line 1 has no user text: the last user turn (messages[2]) holds none',
    ],
    [
      'only images',
      { messages: [user([{ type: 'image_url', image_url: { url: 'https://x.example/a.png' } }])] },
      'MISSING_FIELD',
      'no user text',
    ],
  ])('%s: %s', async (_label, line, code, message) => {
    expect(await one(line)).toEqual({ line: 1, error: { code, message: expect.stringContaining(message) } });
  });

  test('a rejected request keeps its id', async () => {
    expect(await one({ id: 'req-9', messages: [user(5)] })).toMatchObject({
      line: 1,
      id: 'req-9',
      error: { code: 'BAD_RECORD' },
    });
    expect(await one({ id: 'req-10', messages: [] })).toMatchObject({
      line: 1,
      id: 'req-10',
      error: { code: 'MISSING_FIELD' },
    });
  });

  test('every problem of a line is named, up to five, then how many more', async () => {
    const two = await one({ messages: [1, user(2)], id: 3 });
    expect(isErrorRecord(two) && two.error.message).toBe(
      'line 1: messages[0]: must be an object; id: must be a string',
    );
    // The roles read, the last turn's contents are checked.
    const turn = await one({ messages: [user(1), user([{ type: 'text' }, 'x'])], id: 3 });
    expect(isErrorRecord(turn) && turn.error.message).toBe(
      'line 1: messages[0].content: must be a string or an array of content parts; messages[1].content[0].text: must be a string; messages[1].content[1]: must be an object; id: must be a string',
    );
    const many = await one({ messages: Array.from({ length: 1000 }, () => 'x') });
    expect(isErrorRecord(many) && many.error.message).toBe(
      `line 1: ${[0, 1, 2, 3, 4].map((i) => `messages[${i}]: must be an object`).join('; ')}; and 995 more`,
    );
  });

  test('no error quotes the prompt, nor any other text of the request but a short wrong url or method', async () => {
    const secret = 'the customer wrote this secret prompt';
    const lines = [
      `{"messages":[{"role":"user","content":"${secret}"}`,
      { messages: [{ role: secret, content: secret }] },
      {
        messages: [
          user([
            { type: secret, text: 5 },
            { type: 'text', text: { secret } },
          ]),
        ],
      },
      { messages: [user(secret)], id: 5, model: secret },
      { custom_id: 'r', url: 'x'.repeat(81), body: { messages: [user(secret)] } },
      { custom_id: 'r', method: ['GET'], url: CHAT_COMPLETIONS_URL, body: { messages: [user(secret)] } },
      { custom_id: 'r', url: '/v1/embeddings', body: { messages: [5, user(secret)] } },
      { prompt: secret },
      { messages: [{ role: 'system', content: secret }] },
      [secret],
    ];
    const records = await read(...lines);
    expect(records).toHaveLength(lines.length);
    for (const record of records) {
      expect(isErrorRecord(record)).toBe(true);
      if (isErrorRecord(record)) expect(record.error.message).not.toMatch(/secret|xxx|GET/);
    }
  });
});

describe('chat: a line is the JSON-lines record it stands for', () => {
  test('{"kind":"prompt_template","value":P,"id":I}, as readJsonl reads it', async () => {
    const lines = [
      { messages: [user('Grade the answer below.')], id: 'req-1' },
      { custom_id: 'b-2', url: CHAT_COMPLETIONS_URL, body: { messages: [user([{ type: 'text', text: 'Rewrite' }])] } },
      { messages: [user('  no id, spaces kept ')] },
    ];
    const asJsonl = [
      { kind: 'prompt_template', value: 'Grade the answer below.', id: 'req-1' },
      { kind: 'prompt_template', value: 'Rewrite', id: 'b-2' },
      { kind: 'prompt_template', value: '  no id, spaces kept ' },
    ];
    const jsonl: RawRecord[] = [];
    for await (const r of readJsonl(chunks(asJsonl.map((l) => JSON.stringify(l)).join('\n')))) jsonl.push(r);
    expect(await read(...lines)).toEqual(jsonl);
  });

  test('chatRecord reads a request already parsed (from a caller’s own log store)', () => {
    expect(chatRecord(12, { messages: [user('Explain step by step.')], id: 'r' })).toEqual({
      line: 12,
      id: 'r',
      kind: 'prompt_template',
      value: 'Explain step by step.',
    });
    expect(chatRecord(13, { model: 'm' })).toMatchObject({ line: 13, error: { code: 'BAD_RECORD' } });
  });

  test('chatLineShape: a request, a Batch API line, or neither (a JSONL record has a value)', () => {
    expect(chatLineShape({ messages: [] })).toBe('request');
    expect(chatLineShape({ custom_id: 'x', body: { messages: [] } })).toBe('batch');
    expect(chatLineShape({ value: 'x', messages: [] })).toBeUndefined();
    expect(chatLineShape({ messages: 'x' })).toBeUndefined();
    expect(chatLineShape({ body: { messages: {} } })).toBeUndefined();
    expect(chatLineShape([{ messages: [] }])).toBeUndefined();
    expect(chatLineShape(null)).toBeUndefined();
  });
});

describe('chat: long lines', () => {
  const request = (pad: number) =>
    JSON.stringify({
      messages: [
        user([
          { type: 'text', text: 'Describe this image step by step.' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(pad)}` } },
        ]),
      ],
    });
  const overhead = request(0).length;

  test('a request with an inline image longer than other formats’ lines is read', async () => {
    const line = request(3 * MAX_LINE_LENGTH);
    expect(line.length).toBeGreaterThan(MAX_LINE_LENGTH);
    const records: RawRecord[] = [];
    for await (const r of readChat(chunks(`${line}\n`, 1 << 16))) records.push(r);
    expect(records).toEqual([{ line: 1, kind: 'prompt_template', value: 'Describe this image step by step.' }]);
  });

  test('up to MAX_CHAT_LINE_LENGTH characters; a longer line is one BAD_RECORD, skipped, and the file goes on', async () => {
    expect(MAX_CHAT_LINE_LENGTH).toBe(16 * 1024 * 1024);
    const longest = request(MAX_CHAT_LINE_LENGTH - overhead);
    const over = request(MAX_CHAT_LINE_LENGTH - overhead + 1);
    expect([longest.length, over.length]).toEqual([MAX_CHAT_LINE_LENGTH, MAX_CHAT_LINE_LENGTH + 1]);
    const text = [longest, over, JSON.stringify({ messages: [user('After it')] }), `${over}\r`, over].join('\n');
    const records: RawRecord[] = [];
    for await (const r of readChat(chunks(text, 1 << 16))) records.push(r);
    const tooLong = (line: number) => ({
      line,
      error: {
        code: 'BAD_RECORD',
        message: `line ${line} is longer than ${MAX_CHAT_LINE_LENGTH} characters (large inline images or files?): not read`,
      },
    });
    expect(records).toEqual([
      { line: 1, kind: 'prompt_template', value: 'Describe this image step by step.' },
      tooLong(2),
      { line: 3, kind: 'prompt_template', value: 'After it' },
      tooLong(4),
      tooLong(5),
    ]);
  });

  test('other formats still stop at a line over MAX_LINE_LENGTH (BAD_FILE)', async () => {
    const line = request(MAX_LINE_LENGTH);
    await expect(
      (async () => {
        for await (const _ of readJsonl(chunks(`${line}\n`, 1 << 16)));
      })(),
    ).rejects.toMatchObject({ code: 'BAD_FILE', message: expect.stringContaining('line 1: the line is longer') });
  });

  test('linesUpTo splits as String.split does, for any chunking, and marks exactly the lines over the bound', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('a', 'é', '😀', '\n', '\r\n', '\r', ' '), { maxLength: 60 }).map((p) => p.join('')),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 6 }),
        async (text, size, maxLength) => {
          const expected = text.split('\n');
          if (expected.at(-1) === '') expected.pop();
          const want = expected.map((line, i) => ({
            number: i + 1,
            text: line.length > maxLength ? undefined : line.replace(/\r$/, ''),
          }));
          const got = [];
          for await (const line of linesUpTo(chunks(text, size), maxLength)) got.push(line);
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('chat: a file', () => {
  test('one output per non-blank line, in order, good and bad mixed; blank lines are not records', async () => {
    const text = [
      '\uFEFF{"messages":[{"role":"user","content":"Grade this essay."}],"id":"req-1"}',
      '',
      'not json',
      '   ',
      '{"custom_id":"b-2","method":"POST","url":"/v1/chat/completions","body":{"messages":[{"role":"user","content":[{"type":"text","text":"Rewrite"},{"type":"text","text":"this"}]}]}}',
      '[]',
      '{"messages":[{"role":"system","content":"only system"}],"id":"req-4"}',
      '{"custom_id":"b-5","url":"/v1/embeddings","body":{"messages":[]}}',
      '{"messages":[{"role":"user","content":"Last one"}]}\r',
      '{"messages":["bad"]}',
      '',
    ].join('\n');
    const out: RawRecord[] = [];
    for await (const r of readChat(chunks(text, 5))) out.push(r);
    expect(out.map((r) => [r.line, isErrorRecord(r) ? r.error.code : r.value, r.id])).toEqual([
      [1, 'Grade this essay.', 'req-1'],
      [3, 'BAD_RECORD', undefined],
      [5, 'Rewrite\nthis', 'b-2'],
      [6, 'BAD_RECORD', undefined],
      [7, 'MISSING_FIELD', 'req-4'],
      [8, 'BAD_RECORD', 'b-5'],
      [9, 'Last one', undefined],
      [10, 'BAD_RECORD', undefined],
    ]);
    for (const r of out.filter(isErrorRecord)) expect(r.error.message).toMatch(new RegExp(`^line ${r.line}\\b`));
  });

  test('chat is an import format read by readRecords; normalized, its records are prompt_template', async () => {
    expect(IMPORT_FORMATS).toContain('chat');
    expect(parseImportFormat('chat')).toBe('chat');
    const text = [
      '{"messages":[{"role":"system","content":"s"},{"role":"user","content":"Grade the answer below."}],"id":"r1"}',
      '{"custom_id":"r2","method":"POST","url":"/v1/chat/completions","body":{"messages":[{"role":"user","content":"Rewrite the essay in plain words."}]}}',
      '{"messages":[]}',
    ].join('\n');
    const summary = emptySummary();
    const out = [];
    // No default kind: a chat record names its own (the value's canonical form is the kind's business).
    for await (const r of normalizeRecords(readRecords('chat', chunks(text)), {}, summary)) out.push(r);
    expect(out).toEqual([
      { line: 1, id: 'r1', kind: 'prompt_template', value: expect.any(String) },
      { line: 2, id: 'r2', kind: 'prompt_template', value: expect.any(String) },
      { line: 3, error: { code: 'MISSING_FIELD', message: expect.any(String) } },
    ]);
    expect(summary).toMatchObject({ records: 3, accepted: 2, rejected: 1 });
  });
});
