/**
 * @overlap/crypto's main entry loads in a browser: esbuild bundles it for the browser platform, where
 * any Node.js built-in is a build error (node: imports through the plugin below, bare ones because
 * esbuild cannot resolve them for a browser), and a real headless Chromium runs the bundle on every
 * case of spec/vectors/ciphersuite.json. The answers must be the vectors' (written by the native
 * backend on Node.js): the same bytes from the portable backend, with no Node.js underneath. The
 * Node.js entry, bundled the same way, must fail, so the check is known to bite.
 *
 * Chromium is Debian's (/usr/bin/chromium, installed by .ci/run); playwright-core drives it and never
 * downloads a browser of its own.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sign } from '../src/index.js';
import type { BrowserResults, CiphersuiteVectors } from './browser/entry.js';
import './backends.js'; // the Node.js platform, for the native signature compared below

const CHROMIUM = '/usr/bin/chromium';
const packageDir = fileURLToPath(new URL('..', import.meta.url));
/** spec/vectors/ciphersuite.json: the inputs the browser gets, and the answers it must give. */
interface Vectors extends CiphersuiteVectors {
  hash_to_group: { kind: string; value: string; u: string }[];
  blind: { key: string; u: string; blinded: string }[];
  two_keys_either_order: { u: string; key_a: string; key_b: string; a_then_b: string }[];
  three_keys_any_order: { u: string; keys: string[]; results: Record<string, string> };
  low_order_rejected: { key: string; u: string; error: string }[];
  hash_input_rejected: { kind: string; value: string; error: string }[];
  key_id: { ed25519_secret_seed: string; ed25519_public_key: string; key_id: string }[];
}
const vectors = JSON.parse(
  readFileSync(new URL('../../../spec/vectors/ciphersuite.json', import.meta.url), 'utf8'),
) as Vectors;

/** Any `node:` import is an error naming who imports it. */
const nodeBuiltinsAreErrors: Plugin = {
  name: 'node-builtins-are-errors',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^node:/ }, (args) => ({
      errors: [{ text: `${args.path} is a Node.js built-in (imported by ${relative(packageDir, args.importer)})` }],
    }));
  },
};

async function bundleForBrowser(entry: string) {
  return build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    conditions: ['@overlap/source'],
    plugins: [nodeBuiltinsAreErrors],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
}

describe('the main entry, bundled for the browser', () => {
  let bundle: Awaited<ReturnType<typeof bundleForBrowser>>;
  beforeAll(async () => {
    bundle = await bundleForBrowser(join(packageDir, 'test/browser/entry.ts'));
  });

  test('builds with no Node.js built-in and nothing of the Node.js entry or the native addon', () => {
    expect(bundle.errors).toEqual([]);
    const inputs = Object.keys(bundle.metafile.inputs);
    expect(inputs.filter((path) => /(^|\/)node:|\/src\/node\/|sodium-native|@overlap\/files/.test(path))).toEqual([]);
    expect(inputs.some((path) => path.includes('packages/crypto/src/portable-backend.ts'))).toBe(true);
  });

  describe('runs in headless Chromium on spec/vectors/ciphersuite.json', () => {
    let results: BrowserResults;
    let userDataDir: string;
    beforeAll(async () => {
      userDataDir = mkdtempSync(join(tmpdir(), 'overlap-chromium-'));
      const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? '' });
        results = await page.evaluate(
          (v) =>
            (
              globalThis as unknown as { overlapCiphersuite: (v: CiphersuiteVectors) => Promise<BrowserResults> }
            ).overlapCiphersuite(v),
          vectors,
        );
      } finally {
        await context.close();
      }
    }, 120_000);
    afterAll(() => rmSync(userDataDir, { recursive: true, force: true }));

    test('in a browser, on the portable backend', () => {
      expect({ runtime: results.runtime, backend: results.backend }).toEqual({
        runtime: 'browser',
        backend: 'portable',
      });
    });

    test('hash_to_group, one at a time and in a batch', () => {
      const expected = vectors.hash_to_group.map((h) => h.u);
      expect(results.hash_to_group).toEqual(expected);
      expect(results.hash_to_group_batch).toEqual(expected);
    });

    test('blind, two keys in either order, three keys in any order', () => {
      expect(results.blind).toEqual(vectors.blind.map((b) => b.blinded));
      expect(results.two_keys).toEqual(vectors.two_keys_either_order.map((c) => [c.a_then_b, c.a_then_b]));
      const [three] = Object.values(vectors.three_keys_any_order.results);
      expect(results.three_keys).toEqual([three, three, three]);
    });

    test('low-order points and bad hash inputs are refused with their codes', () => {
      expect(results.low_order_rejected).toEqual(vectors.low_order_rejected.map((l) => l.error));
      expect(results.hash_input_rejected).toEqual(vectors.hash_input_rejected.map((r) => r.error));
    });

    test('identities: public keys, key ids, and a signature byte for byte as the native backend makes it', () => {
      expect(results.key_id).toEqual(
        vectors.key_id.map((k) => ({ public_key: k.ed25519_public_key, key_id: k.key_id })),
      );
      const seed = Buffer.from(vectors.key_id[0]?.ed25519_secret_seed ?? '', 'hex');
      const native = sign(seed, new TextEncoder().encode('signed in a browser'), { backend: 'native' });
      expect(results.signature).toBe(Buffer.from(native).toString('hex'));
      expect([results.verifies, results.verifies_altered]).toEqual([true, false]);
      expect(results.sha256_abc).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    });
  });
});

test('the Node.js entry does not bundle for the browser: the check bites', async () => {
  const failure = await bundleForBrowser(join(packageDir, 'src/node/index.ts')).then(
    () => undefined,
    (error: { errors?: { text: string }[] }) => error.errors?.map((e) => e.text) ?? [String(error)],
  );
  expect(failure).toEqual(expect.arrayContaining([expect.stringMatching(/^node:\S+ is a Node\.js built-in/)]));
});
