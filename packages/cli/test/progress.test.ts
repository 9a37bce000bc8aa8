/**
 * The progress display of `session run` (progress.ts) on a clock of the test's own: an ETA only
 * once it means something (≥ 10% done and ≥ 2 s into the phase, timed from the phase's own start),
 * a bar on a terminal, and in a log one line per phase and then the counts every few seconds —
 * the last counts of a phase too, never only its first.
 */
import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { etaSeconds, formatDuration, groupThousands, ProgressDisplay } from '../src/progress.js';

function display(tty: boolean) {
  let now = 0;
  const written: string[] = [];
  const progress = new ProgressDisplay({
    tty,
    write: (text) => written.push(text),
    now: () => now,
    redrawMs: 0,
    heartbeatMs: 5000,
  });
  return {
    progress,
    written,
    at(ms: number) {
      now = ms;
    },
  };
}

describe('etaSeconds', () => {
  test('none before 10% or before 2 s, then the time left at the rate so far', () => {
    expect(etaSeconds(1, 16, 10_000)).toBeUndefined(); // 6%
    expect(etaSeconds(8, 16, 1_999)).toBeUndefined(); // too early
    expect(etaSeconds(4, 16, 4_000)).toBe(12); // 1 s per chunk, 12 left
    expect(etaSeconds(16, 16, 4_000)).toBeUndefined(); // done
    expect(etaSeconds(0, 0, 4_000)).toBeUndefined();
  });

  test('durations read as people say them', () => {
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(200)).toBe('3 min 20 s');
    expect(formatDuration(600)).toBe('10 min');
    expect(formatDuration(3900)).toBe('1 h 5 min');
  });
});

describe('the hashing phase says what it does', () => {
  test.each([
    [{ items: 12_000 }, 'hashing and blinding 12,000 indicators'],
    [{ items: 12_000, hashedAhead: 11_000, distinct: 11_000 }, 'blinding 12,000 indicators (hashed ahead)'],
    [
      { items: 12_000, hashedAhead: 4_000, distinct: 11_000 },
      'hashing and blinding 12,000 indicators (4,000 hashed ahead)',
    ],
  ])('%o', (fields, label) => {
    const d = display(false);
    d.progress.update({ phase: 'hashing', ...fields });
    d.progress.stop();
    expect(d.written).toEqual([`overlap: ${label}\n`]);
  });
});

describe('in a log (no terminal)', () => {
  test('one line per phase, the counts every 5 s, the last counts when the phase ends', () => {
    const d = display(false);
    d.progress.update({ phase: 'hashing', items: 12_000 });
    d.at(30_000);
    // The upload follows a 30 s hashing phase: its ETA is timed from its own start.
    d.progress.update({ phase: 'uploading', sent: 0, total: 16 });
    for (let sent = 1; sent <= 16; sent++) {
      d.at(30_000 + sent * 1000);
      d.progress.update({ phase: 'uploading', sent, total: 16 });
    }
    d.at(47_000);
    d.progress.update({ phase: 'waiting' });
    d.progress.stop();
    expect(d.written).toEqual([
      'overlap: hashing and blinding 12,000 indicators\n',
      'overlap: uploading chunks: 0/16 chunks (0%)\n',
      'overlap: uploading chunks: 5/16 chunks (31%), 1.0 chunks/s, ETA 11 s\n',
      'overlap: uploading chunks: 10/16 chunks (62%), 1.0 chunks/s, ETA 6 s\n',
      'overlap: uploading chunks: 15/16 chunks (93%), 1.0 chunks/s, ETA 1 s\n',
      'overlap: uploading chunks: 16/16 chunks (100%), 1.0 chunks/s, 16 s\n',
      'overlap: waiting for the other labs\n',
    ]);
  });

  test('a long wait without new counts is said again, every 30 s, with how long', () => {
    const d = display(false);
    d.progress.update({ phase: 'waiting' });
    d.at(29_000);
    d.progress.tick();
    d.at(31_000);
    d.progress.tick();
    expect(d.written).toEqual(['overlap: waiting for the other labs\n', 'overlap: waiting for the other labs: 31 s\n']);
  });
});

describe('on a terminal', () => {
  test('a bar rewritten in place; no ETA at 1 of 16; a note on its own line, the bar drawn again', () => {
    const d = display(true);
    d.progress.update({ phase: 'uploading', sent: 0, total: 16 });
    d.at(3000);
    d.progress.update({ phase: 'uploading', sent: 1, total: 16 });
    d.progress.note('relay unreachable (connection refused); retrying for up to 10 min');
    d.at(8000);
    d.progress.update({ phase: 'uploading', sent: 8, total: 16 });
    d.progress.stop();
    expect(d.written).toEqual([
      `\r\u001b[2Kuploading chunks [${'-'.repeat(24)}] 0/16 chunks (0%)`,
      `\r\u001b[2Kuploading chunks [##${'-'.repeat(22)}] 1/16 chunks (6%), 0.3 chunks/s, 3 s`,
      '\r\u001b[2K',
      'overlap: relay unreachable (connection refused); retrying for up to 10 min\n',
      `\r\u001b[2Kuploading chunks [##${'-'.repeat(22)}] 1/16 chunks (6%), 0.3 chunks/s, 3 s`,
      `\r\u001b[2Kuploading chunks [${'#'.repeat(12)}${'-'.repeat(12)}] 8/16 chunks (50%), 1.0 chunks/s, ETA 8 s`,
      '\n',
    ]);
  });
});

propTest.prop([fc.integer({ min: -(2 ** 40), max: 2 ** 40 })])('counts are grouped as en-US does it', (n) => {
  expect(groupThousands(n)).toBe(n.toLocaleString('en-US'));
});
