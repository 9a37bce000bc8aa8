import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, test } from 'vitest';
import { hashToGroup, selectBackend } from '../src/index.js';
import { BACKEND_ENV_VAR } from '../src/node/index.js';
import { loadNativeBackend } from '../src/node/native-backend.js';
import { hex } from './backends.js';

const missingAddon = () => loadNativeBackend('sodium-native-that-does-not-exist');

describe('backend selection', () => {
  const saved = process.env[BACKEND_ENV_VAR];
  afterEach(() => {
    if (saved === undefined) delete process.env[BACKEND_ENV_VAR];
    else process.env[BACKEND_ENV_VAR] = saved;
  });

  test('auto uses native when the addon loads', () => {
    expect(selectBackend({ preference: 'auto' }).name).toBe('native');
  });

  test('auto falls back to portable with exactly one warning line when the addon cannot load', () => {
    const lines: string[] = [];
    const backend = selectBackend({ preference: 'auto', loadNative: missingAddon, warn: (line) => lines.push(line) });
    expect(backend.name).toBe('portable');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^overlap: native crypto backend unavailable \(.*sodium-native-that-does-not-exist.*\); using the portable backend/,
    );
    expect(lines[0]).not.toContain('\n');
  });

  test('forcing native where it cannot load is BACKEND_UNAVAILABLE, not a crash', () => {
    expect(() => selectBackend({ preference: 'native', loadNative: missingAddon })).toThrow(
      expect.objectContaining({ code: 'BACKEND_UNAVAILABLE' }),
    );
  });

  test('the environment variable forces either path; a bad value is a typed error', () => {
    process.env[BACKEND_ENV_VAR] = 'portable';
    expect(selectBackend().name).toBe('portable');
    process.env[BACKEND_ENV_VAR] = 'native';
    expect(selectBackend().name).toBe('native');
    process.env[BACKEND_ENV_VAR] = 'fast';
    expect(() => selectBackend()).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => selectBackend({ preference: 'quick' as never })).toThrow(
      expect.objectContaining({ code: 'BAD_INPUT' }),
    );
  });

  test('both choices give the same hash', () => {
    expect(hex(hashToGroup('phone', '+14155550100', { backend: 'portable' }))).toBe(
      hex(hashToGroup('phone', '+14155550100', { backend: 'native' })),
    );
  });
});

/** Runs `script` in a fresh Node process on the TypeScript sources; `preload` goes first. */
async function runNode(script: string, preload: string[] = []): Promise<{ stdout: string; stderr: string }> {
  const loaders = preload.flatMap((url) => ['--import', url]);
  return promisify(execFile)(
    process.execPath,
    [...loaders, '--import', 'tsx', '--conditions=@overlap/source', '--input-type=module', '-e', script],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), env: { ...process.env, [BACKEND_ENV_VAR]: '' } },
  );
}

const MAIN = JSON.stringify(new URL('../src/index.ts', import.meta.url).href);
const NODE = JSON.stringify(new URL('../src/node/index.ts', import.meta.url).href);

test('a process whose native addon fails to load still hashes, after one warning line on stderr', async () => {
  // A real Node process in which loading the sodium-native addon fails (its resolution throws).
  const register = `data:text/javascript,${encodeURIComponent(
    "import Module from 'node:module'; const resolve = Module._resolveFilename; Module._resolveFilename = function (request, ...rest) { if (request === 'sodium-native') throw new Error('addon missing in this test'); return resolve.call(this, request, ...rest); };",
  )}`;
  const { stdout, stderr } = await runNode(
    `import { hashToGroup, toHex } from ${MAIN};
    import ${NODE};
    console.log(toHex(hashToGroup('email', 'a@b.example')));
    console.log(toHex(hashToGroup('email', 'c@d.example')));`,
    [register],
  );
  expect(stdout.trim().split('\n')).toEqual([
    hex(hashToGroup('email', 'a@b.example')),
    hex(hashToGroup('email', 'c@d.example')),
  ]);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toContain('using the portable backend');
});

test('without @overlap/crypto/node a process has the portable backend only: auto is portable, silently; native is BACKEND_UNAVAILABLE', async () => {
  const { stdout, stderr } = await runNode(
    `import { getBackend, hashToGroup, selectBackend, toHex } from ${MAIN};
    let forced;
    try { selectBackend({ preference: 'native' }); forced = 'native'; } catch (error) { forced = error.code; }
    const viaEnvironment = (process.env.OVERLAP_CRYPTO_BACKEND = 'native', getBackend().name);
    console.log(JSON.stringify({ auto: getBackend().name, forced, viaEnvironment, hash: toHex(hashToGroup('email', 'a@b.example')) }));`,
  );
  expect(JSON.parse(stdout)).toEqual({
    auto: 'portable',
    forced: 'BACKEND_UNAVAILABLE',
    viaEnvironment: 'portable', // the main entry does not read the environment
    hash: hex(hashToGroup('email', 'a@b.example', { backend: 'native' })),
  });
  expect(stderr).toBe('');
});
