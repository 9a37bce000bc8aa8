/**
 * Writes every generated vector file under spec/vectors/ (`pnpm vectors`). With `--check` it
 * writes nothing and exits 1 if any file differs from what the code produces now.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { buildCiphersuiteVectors } from './vectors/ciphersuite.js';
import { buildEnvelopeVectors } from './vectors/envelopes.js';
import { buildHopProofVectors } from './vectors/hop-proofs.js';
import { buildIndicatorVectors } from './vectors/indicators.js';
import { buildLogVectors } from './vectors/log.js';
import { buildPromptTemplateVectors } from './vectors/prompt-templates.js';

export const VECTOR_FILES: Record<string, () => string> = {
  'spec/vectors/ciphersuite.json': buildCiphersuiteVectors,
  'spec/vectors/envelopes.json': buildEnvelopeVectors,
  'spec/vectors/hop-proofs.json': buildHopProofVectors,
  'spec/vectors/indicators.json': buildIndicatorVectors,
  'spec/vectors/log.json': buildLogVectors,
  'spec/vectors/prompt-templates.json': buildPromptTemplateVectors,
};

const root = new URL('..', import.meta.url);
const check = process.argv.includes('--check');
let stale = 0;
for (const [path, build] of Object.entries(VECTOR_FILES)) {
  const text = build();
  const target = new URL(path, root);
  if (check) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {}
    if (current !== text) {
      stale++;
      process.stderr.write(`${path}: out of date (run pnpm vectors)\n`);
    }
  } else {
    writeFileSync(target, text);
    process.stdout.write(`wrote ${path}\n`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
