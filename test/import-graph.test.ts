import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { checkWorkspace, findCycles } from '../scripts/import-graph.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

describe('findCycles', () => {
  test('finds a two-node and a self cycle, and nothing in a DAG', () => {
    expect(
      findCycles(
        new Map([
          ['a', ['b']],
          ['b', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'a']]);
    expect(findCycles(new Map([['a', ['a']]]))).toEqual([['a', 'a']]);
    expect(
      findCycles(
        new Map([
          ['a', ['b', 'c']],
          ['b', ['c']],
          ['c', []],
        ]),
      ),
    ).toEqual([]);
  });
});

describe('checkWorkspace', () => {
  let fixture: string | undefined;
  afterEach(() => {
    if (fixture) rmSync(fixture, { recursive: true, force: true });
  });

  function write(path: string, text: string) {
    const full = join(fixture as string, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  const manifest = (deps: Record<string, string>) => JSON.stringify({ dependencies: deps });

  test('this repository keeps every rule', () => {
    expect(checkWorkspace(repoRoot)).toEqual([]);
  });

  test('reports a forbidden dependency, an undeclared import, I/O in a pure package and a file cycle', () => {
    fixture = mkdtempSync(join(tmpdir(), 'overlap-imports-'));
    write('packages/crypto/package.json', manifest({ '@overlap/relay': 'workspace:*' }));
    write('packages/crypto/src/a.ts', "import { b } from './b.js';\nexport const a = b;\n");
    write(
      'packages/crypto/src/b.ts',
      "// import { x } from 'zod' is a comment\nimport { a } from './a.js';\nexport const b = a;\n",
    );
    write('packages/log/package.json', manifest({}));
    write('packages/log/src/index.ts', "import { readFileSync } from 'node:fs';\nimport { z } from 'zod';\n");
    write('packages/relay/package.json', manifest({}));

    const messages = checkWorkspace(fixture).map((v) => `${v.file}: ${v.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'packages/crypto/package.json: @overlap/crypto may not depend on @overlap/relay (docs/architecture.md)',
        'packages/log/src/index.ts: pure package log imports node:fs',
        'packages/log/src/index.ts: imports zod, which package.json does not declare',
        expect.stringMatching(/^packages\/crypto\/src\/a\.ts: import cycle: .*a\.ts -> .*b\.ts -> .*a\.ts$/),
      ]),
    );
    expect(messages).toHaveLength(4);
  });

  test("keeps the pure packages and what crypto's main entry reaches off Node.js", () => {
    fixture = mkdtempSync(join(tmpdir(), 'overlap-imports-'));
    write('packages/files/package.json', manifest({}));
    write('packages/crypto/package.json', manifest({ '@overlap/files': 'workspace:*' }));
    write('packages/crypto/src/index.ts', "export { a } from './a.js';\n");
    write('packages/crypto/src/a.ts', "import { cpus } from 'node:os';\nexport const a = cpus;\n");
    // The Node.js entry may use all of Node.js: the main entry does not reach it.
    write(
      'packages/crypto/src/node/index.ts',
      "import { writeFileAtomic } from '@overlap/files';\nimport 'node:worker_threads';\nexport const w = writeFileAtomic;\n",
    );
    write('packages/protocol/package.json', manifest({ '@overlap/crypto': 'workspace:*' }));
    write(
      'packages/protocol/src/index.ts',
      "import { BatchPool } from '@overlap/crypto/node';\nimport { randomBytes } from 'node:crypto';\nexport const b = [BatchPool, randomBytes];\n",
    );
    write('packages/log/package.json', manifest({ '@overlap/files': 'workspace:*' }));
    write('packages/log/src/index.ts', "export { writeFileAtomic } from '@overlap/files';\n");
    const messages = checkWorkspace(fixture).map((v) => `${v.file}: ${v.message}`);
    expect(messages.sort()).toEqual([
      "packages/crypto/src/a.ts: crypto's main entry (src/index.ts, pure) reaches this file, which imports node:os",
      'packages/log/package.json: @overlap/log may not depend on @overlap/files (docs/architecture.md)',
      'packages/log/src/index.ts: pure package log imports @overlap/files',
      'packages/protocol/src/index.ts: pure package protocol imports @overlap/crypto/node',
      'packages/protocol/src/index.ts: pure package protocol imports node:crypto',
    ]);
  });

  test('reports a cycle between packages', () => {
    fixture = mkdtempSync(join(tmpdir(), 'overlap-imports-'));
    write('packages/relay/package.json', manifest({ '@overlap/cli': 'workspace:*' }));
    write('packages/relay/src/index.ts', "import '@overlap/cli';\n");
    write('packages/cli/package.json', manifest({ '@overlap/relay': 'workspace:*' }));
    write('packages/cli/src/index.ts', "import '@overlap/relay';\n");
    const messages = checkWorkspace(fixture).map((v) => v.message);
    expect(messages).toContain('@overlap/relay may not depend on @overlap/cli (docs/architecture.md)');
    expect(messages.some((m) => m.startsWith('package cycle:'))).toBe(true);
  });
});
