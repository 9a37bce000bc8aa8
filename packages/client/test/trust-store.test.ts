/**
 * The trust store's checkpoint update (trust-store.ts) on real files: the update, which fetches
 * proofs from the relay, runs outside the record's lock — another process of the lab pins or
 * updates meanwhile without waiting on the network — and its note is written only if the record is
 * still the one it judged; otherwise it is judged again against the newer one, never overwriting it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { TrustStore } from '../src/trust-store.js';

const URL = 'https://relay.forum.example';
const roots = {
  origin: 'relay.forum.example/log',
  logKey: 'relay.forum.example/log+00000000+AQ',
  adminKey: 'ab'.repeat(32),
};
let dir: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'overlap-trust-store-'));
  await new TrustStore(dir).pin(URL, roots, {});
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const remembered = () => JSON.parse(readFileSync(new TrustStore(dir).fileOf(URL), 'utf8')).checkpoint as string | null;

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

test('an update waiting on the network holds no lock: another process pins and updates meanwhile', async () => {
  const network = gate();
  const slow = new TrustStore(dir).updateCheckpoint(URL, roots.logKey, async () => {
    await network.opened;
    return 'note 1';
  });
  // With the lock held across the update these would wait for it (up to 60 s), and the gate would never open.
  await new TrustStore(dir).pin(URL, roots, {});
  await new TrustStore(dir).updateCheckpoint(URL, roots.logKey, async () => 'note 2');
  expect(remembered()).toBe('note 2');
  network.open();
  await slow;
});

test('an update judged against a record that changed meanwhile is judged again against the newer one', async () => {
  const network = gate();
  const seen: (string | undefined)[] = [];
  const first = new TrustStore(dir).updateCheckpoint(URL, roots.logKey, async (current) => {
    seen.push(current);
    if (seen.length === 1) await network.opened;
    return current === undefined ? 'note A' : `${current} then A`;
  });
  await new TrustStore(dir).updateCheckpoint(URL, roots.logKey, async () => 'note B');
  network.open();
  await first;
  expect(seen).toEqual([undefined, 'note B']);
  expect(remembered()).toBe('note B then A'); // B was not overwritten by a judgement made without it
});

test("a re-pin to another log key meanwhile: the update writes nothing into the new key's record, and says so", async () => {
  const network = gate();
  const seen: (string | undefined)[] = [];
  const first = new TrustStore(dir).updateCheckpoint(URL, roots.logKey, async (current) => {
    seen.push(current);
    if (seen.length === 1) await network.opened;
    return 'note under the key it was judged with';
  });
  await new TrustStore(dir).updateCheckpoint(URL, roots.logKey, async () => 'old note');
  await new TrustStore(dir).pin(
    URL,
    { ...roots, logKey: 'relay.forum.example/log+11111111+AQ' },
    { logKey: 'relay.forum.example/log+11111111+AQ' },
  );
  expect(remembered()).toBeNull(); // the re-pin forgot the checkpoint of the old key
  network.open();
  // Judged again, it finds the record pinning another key than the one its note was verified under.
  await expect(first).rejects.toMatchObject({ code: 'TRUST_ROOT_MISMATCH' });
  expect(seen).toEqual([undefined]);
  expect(remembered()).toBeNull(); // nothing of the old key written into the new key's record
});
