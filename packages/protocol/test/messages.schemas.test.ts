import { describe, expect, test } from 'vitest';
import {
  enrollmentSchema,
  parseMessage,
  parseWithSchema,
  sessionProposalSchema,
  tagChunkSchema,
} from '../src/index.js';

const key = new Uint8Array(32).fill(3);

describe('message schemas report every invalid field with its path', () => {
  test('an enrollment', () => {
    const ok = { lab: 'lab-a', name: 'Lab A', signing_key: key, sealing_key: key, valid_from: 1, valid_until: 2 };
    expect(parseWithSchema(enrollmentSchema, ok, 'enrollment')).toEqual(ok);
    try {
      parseWithSchema(
        enrollmentSchema,
        { ...ok, lab: 'Lab A', signing_key: new Uint8Array(31), valid_until: 0, extra: 1 },
        'enrollment',
      );
      expect.unreachable();
    } catch (error) {
      const paths = (error as { issues: { path: string[] }[] }).issues.map((i) => i.path.join('.'));
      expect(paths).toEqual(expect.arrayContaining(['lab', 'signing_key']));
      expect((error as { code: string }).code).toBe('INVALID_MESSAGE');
    }
  });

  test('a proposal and a tag chunk', () => {
    expect(() =>
      parseWithSchema(
        sessionProposalSchema,
        { labs: ['a'.repeat(32), 'a'.repeat(32)], kinds: [], policy: { kind: 'threshold', t: 1 }, maxItemsPerKind: 0 },
        'proposal',
      ),
    ).toThrow(
      expect.objectContaining({
        issues: expect.arrayContaining([
          expect.objectContaining({ path: ['labs'] }),
          expect.objectContaining({ path: ['kinds'] }),
          expect.objectContaining({ path: ['policy', 't'] }),
          expect.objectContaining({ path: ['maxItemsPerKind'] }),
        ]),
      }),
    );
    expect(() =>
      parseWithSchema(
        tagChunkSchema,
        { kind: 'email', owner: 'a'.repeat(32), hop: 0, first: 0, tags: new Uint8Array(33) },
        'chunk',
      ),
    ).toThrow(expect.objectContaining({ issues: [expect.objectContaining({ path: ['tags'] })] }));
  });
});

test('parseMessage validates a payload by its envelope type, for every type', () => {
  const tags = { kind: 'email', owner: 'a'.repeat(32), hop: 1, first: 0, tags: new Uint8Array(64) };
  for (const type of ['tag_chunk', 'blind_result'] as const) expect(parseMessage(type, tags)).toEqual(tags);
  expect(() => parseMessage('blind_task', tags)).toThrow(
    expect.objectContaining({ issues: [expect.objectContaining({ path: ['source'] })] }),
  );
  const task = { ...tags, source: new Uint8Array([1]) };
  expect(parseMessage('blind_task', task)).toEqual(task);
  const join = { sizes: { email: 3 }, key: new Uint8Array(32).fill(1), coin: new Uint8Array(32).fill(2) };
  expect(parseMessage('join', join)).toEqual(join);
  expect(() => parseMessage('join', { sizes: { email: 3 } })).toThrow(
    expect.objectContaining({
      issues: [expect.objectContaining({ path: ['key'] }), expect.objectContaining({ path: ['coin'] })],
    }),
  );
  expect(parseMessage('abort', { reason: 'timeout' })).toEqual({ reason: 'timeout' });
  expect(() => parseMessage('result_rows', { kind: 'email', lab: 'a'.repeat(32), rows: [{ position: -1 }] })).toThrow(
    expect.objectContaining({
      code: 'INVALID_MESSAGE',
      issues: [expect.objectContaining({ path: ['rows', 0, 'position'] })],
    }),
  );
  expect(() => parseMessage('revocation', { key: 'x', reason: 'r', effective: 1 })).toThrow(
    expect.objectContaining({ code: 'INVALID_MESSAGE' }),
  );
});

test('a threshold proposal needs at least t labs', () => {
  const labs = ['a'.repeat(32), 'b'.repeat(32)];
  const proposal = (t: number) => ({ labs, kinds: ['email'], policy: { kind: 'threshold', t }, maxItemsPerKind: 10 });
  expect(parseWithSchema(sessionProposalSchema, proposal(2), 'proposal').policy).toEqual({ kind: 'threshold', t: 2 });
  expect(() => parseWithSchema(sessionProposalSchema, proposal(3), 'proposal')).toThrow(
    expect.objectContaining({
      code: 'INVALID_MESSAGE',
      issues: [expect.objectContaining({ path: ['policy', 't'], message: 'a threshold policy needs at least t labs' })],
    }),
  );
});
