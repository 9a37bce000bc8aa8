import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { CryptoError, decodeKeyFile, encodeKeyFile, generateLabKeys, type LabKeys } from '../src/index.js';
import { readKeyFile, writeKeyFile } from '../src/node/index.js';
import { hex } from './backends.js';

// Cheap scrypt parameters keep the suite fast; one test below uses the defaults.
const fastScrypt = { N: 2 ** 10, r: 8, p: 1 };
const PASSPHRASE = 'correct horse battery staple';

let dir: string;
let keys: LabKeys;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'overlap-keys-'));
  keys = generateLabKeys();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sameKeys(a: LabKeys, b: LabKeys) {
  expect(hex(a.signing.secretKey)).toBe(hex(b.signing.secretKey));
  expect(hex(a.sealing.secretKey)).toBe(hex(b.sealing.secretKey));
  expect(a.keyId).toBe(b.keyId);
}

describe('key files on disk', () => {
  test('a plain key file is written with mode 0600, atomically, and read back', async () => {
    const path = join(dir, 'lab.key');
    await writeKeyFile(path, keys);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['lab.key']); // no temporary file left behind
    const warnings: string[] = [];
    sameKeys(await readKeyFile(path, { warn: (line) => warnings.push(line) }), keys);
    expect(warnings).toEqual([]);
  });

  test('an encrypted key file needs the passphrase, and does not contain the secrets', async () => {
    const path = join(dir, 'lab.key');
    await writeKeyFile(path, keys, { passphrase: PASSPHRASE, scrypt: fastScrypt });
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(hex(keys.signing.secretKey));
    expect(text).not.toContain(hex(keys.sealing.secretKey));
    sameKeys(await readKeyFile(path, { passphrase: PASSPHRASE }), keys);
    await expect(readKeyFile(path)).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED' });
    await expect(readKeyFile(path, { passphrase: 'wrong' })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
  });

  test('the default scrypt parameters round-trip', () => {
    const text = encodeKeyFile(keys, { passphrase: PASSPHRASE });
    expect(JSON.parse(text).secrets.scrypt).toEqual({ N: 2 ** 17, r: 8, p: 1 });
    sameKeys(decodeKeyFile(text, { passphrase: PASSPHRASE }), keys);
  });

  test('a group- or world-readable key file is read with one warning line', async () => {
    const path = join(dir, 'lab.key');
    await writeKeyFile(path, keys);
    await chmod(path, 0o644);
    const warnings: string[] = [];
    await readKeyFile(path, { warn: (line) => warnings.push(line) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('mode 0644');
    expect(warnings[0]).toContain(`chmod 600 ${path}`);
  });

  test('an existing file is never clobbered unless asked', async () => {
    const path = join(dir, 'lab.key');
    await writeKeyFile(path, keys);
    const other = generateLabKeys();
    await expect(writeKeyFile(path, other)).rejects.toMatchObject({ code: 'BAD_KEY_FILE' });
    sameKeys(await readKeyFile(path), keys);
    await writeKeyFile(path, other, { overwrite: true });
    sameKeys(await readKeyFile(path), other);
    expect(await readdir(dir)).toEqual(['lab.key']);
  });

  test.each([
    ['a missing file', async () => join(dir, 'absent.key'), 'no such file'],
    ['a directory', async () => dir, 'not a regular file'],
    [
      'a FIFO planted at the path',
      async () => {
        execFileSync('mkfifo', [join(dir, 'fifo.key')]);
        return join(dir, 'fifo.key');
      },
      'not a regular file',
    ],
    [
      'a huge file',
      async () => {
        await writeFile(join(dir, 'big.key'), 'x'.repeat(100_000));
        return join(dir, 'big.key');
      },
      'too large',
    ],
  ])('%s is a BAD_KEY_FILE error naming the path', async (_label, makePath, reason) => {
    const path = await makePath();
    const error = await readKeyFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CryptoError);
    expect(error).toMatchObject({ code: 'BAD_KEY_FILE' });
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain(reason);
  });
});

describe('corrupted or hostile key file text', () => {
  const good = () => JSON.parse(encodeKeyFile(keys)) as Record<string, unknown>;
  const goodEncrypted = () => JSON.parse(encodeKeyFile(keys, { passphrase: PASSPHRASE, scrypt: fastScrypt }));

  test.each([
    ['not JSON', () => '{"type": "overlap-lab-keys", '],
    ['not an object', () => '[]'],
    ['a wrong type', () => JSON.stringify({ ...good(), type: 'ssh-key' })],
    ['a future version', () => JSON.stringify({ ...good(), version: 2 })],
    ['a missing public key', () => JSON.stringify({ ...good(), signingPublicKey: undefined })],
    [
      'uppercase hex',
      () => JSON.stringify({ ...good(), signingPublicKey: (good().signingPublicKey as string).toUpperCase() }),
    ],
    [
      'a swapped public key',
      () => JSON.stringify({ ...good(), signingPublicKey: hex(generateLabKeys().signing.publicKey) }),
    ],
    ['a wrong key id', () => JSON.stringify({ ...good(), keyId: '00'.repeat(16) })],
    ['an unknown secrets encoding', () => JSON.stringify({ ...good(), secrets: { encoding: 'rot13' } })],
    ['short secrets', () => JSON.stringify({ ...good(), secrets: { encoding: 'plain', value: 'abcd' } })],
    [
      'scrypt N that is not a power of two',
      () =>
        JSON.stringify({
          ...goodEncrypted(),
          secrets: { ...goodEncrypted().secrets, scrypt: { N: 1000, r: 8, p: 1 } },
        }),
    ],
    [
      'scrypt N too large (a denial of service)',
      () =>
        JSON.stringify({
          ...goodEncrypted(),
          secrets: { ...goodEncrypted().secrets, scrypt: { N: 2 ** 30, r: 8, p: 1 } },
        }),
    ],
  ])('%s is BAD_KEY_FILE, and the message quotes no secret', (_label, makeText) => {
    const text = makeText();
    const error = (() => {
      try {
        decodeKeyFile(text, { passphrase: PASSPHRASE });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: 'BAD_KEY_FILE' });
    const message = (error as Error).message;
    expect(message).not.toContain(hex(keys.signing.secretKey).slice(0, 16));
    expect(message).not.toContain(hex(keys.sealing.secretKey).slice(0, 16));
  });

  test('a flipped bit in the ciphertext reads as a wrong passphrase (authenticated encryption)', () => {
    const file = goodEncrypted();
    const ciphertext: string = file.secrets.ciphertext;
    file.secrets.ciphertext = `${ciphertext.slice(0, 10)}${ciphertext[10] === '0' ? '1' : '0'}${ciphertext.slice(11)}`;
    expect(() => decodeKeyFile(JSON.stringify(file), { passphrase: PASSPHRASE })).toThrow(
      expect.objectContaining({ code: 'WRONG_PASSPHRASE' }),
    );
  });

  test('dispose() wipes both secret keys', () => {
    const signing = keys.signing.secretKey;
    const sealing = keys.sealing.secretKey;
    keys.dispose();
    expect(signing.every((b) => b === 0)).toBe(true);
    expect(sealing.every((b) => b === 0)).toBe(true);
  });
});
