/**
 * spec/vectors/indicators.json: for every indicator kind of rules version 1, raw inputs with their
 * canonical values and inputs that must be rejected with their error codes. The data is each kind's
 * own examples (packages/indicators/src/kinds/*.ts), so the spec, the tests and the code cannot
 * drift apart; test/spec-vectors.test.ts checks the file regenerates byte for byte and re-checks
 * every entry.
 */
import { INDICATOR_KINDS, RULE_DEPENDENCIES } from '@overlap/indicators';

export function buildIndicatorVectors(): string {
  const kinds = [...INDICATOR_KINDS.values()].map((kind) => ({
    kind: kind.name,
    rules_version: kind.rulesVersion,
    summary: kind.summary,
    canonical: kind.examples.map((e) => ({
      raw: e.raw,
      ...(e.options?.region !== undefined && { region: e.options.region }),
      canonical: e.canonical,
      ...(e.note !== undefined && { note: e.note }),
    })),
    rejected: kind.counterExamples.map((e) => ({
      raw: e.raw,
      ...(e.options?.region !== undefined && { region: e.options.region }),
      error: e.code,
      ...(e.note !== undefined && { note: e.note }),
    })),
  }));
  const vectors = {
    description:
      'Canonicalization vectors for Overlap indicator kinds, rules version 1 (spec/indicators.md). Each "raw" input (with "region" where given) must canonicalize to "canonical", or be rejected with the "error" code.',
    rule_dependencies: RULE_DEPENDENCIES,
    kinds,
  };
  return `${JSON.stringify(vectors, null, 2)}\n`;
}
