/**
 * `pnpm lint` runs this after biome: it fails when the workspace breaks docs/architecture.md's package
 * boundaries or has an import cycle (see import-graph.ts for the rules).
 */
import { fileURLToPath } from 'node:url';
import { checkWorkspace } from './import-graph.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const violations = checkWorkspace(root);
for (const v of violations) process.stderr.write(`${v.file}: ${v.message}\n`);
if (violations.length > 0) {
  process.stderr.write(`import check: ${violations.length} problem(s)\n`);
  process.exitCode = 1;
} else {
  process.stdout.write('import check: package boundaries kept, no import cycles\n');
}
