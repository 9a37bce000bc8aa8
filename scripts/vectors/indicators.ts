/**
 * spec/vectors/indicators.json: for every indicator kind, raw inputs with their canonical values
 * and inputs that must be rejected with their error codes, plus what every kind shares (the
 * trimmed code points, each kind's length bound and the data the rules pin). The data is each
 * kind's own examples (packages/indicators/src/kinds/*.ts), so the spec, the tests and the code
 * cannot drift apart, and two generated length vectors per kind (spec/indicators.md §1: the bound
 * counts UTF-16 code units of the untrimmed input); test/spec-vectors.test.ts checks the file
 * regenerates byte for byte and re-checks every entry.
 */
import {
  INDICATOR_KINDS,
  type IndicatorKind,
  RULE_DATA,
  RULE_DEPENDENCIES,
  TRIMMED_CODE_POINTS,
} from '@overlap/indicators';

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/** The kind's first example padded with spaces up to its bound (accepted), and one space more (`TOO_LONG`). */
function lengthVectors(kind: IndicatorKind) {
  const example = kind.examples[0];
  if (example === undefined) throw new Error(`${kind.name} has no example`);
  const padding = kind.maxLength - example.raw.length;
  const options = example.options?.region !== undefined && { region: example.options.region };
  return {
    accepted: {
      raw: `${example.raw}${' '.repeat(padding)}`,
      ...options,
      canonical: example.canonical,
      note: `${kind.maxLength} UTF-16 code units before trimming: the longest accepted`,
    },
    rejected: {
      raw: `${example.raw}${' '.repeat(padding + 1)}`,
      ...options,
      error: 'TOO_LONG',
      note: `${kind.maxLength + 1} UTF-16 code units before trimming`,
    },
  };
}

export function buildIndicatorVectors(): string {
  const kinds = [...INDICATOR_KINDS.values()].map((kind) => {
    const length = lengthVectors(kind);
    return {
      kind: kind.name,
      rules_version: kind.rulesVersion,
      summary: kind.summary,
      max_length: kind.maxLength,
      canonical: [
        ...kind.examples.map((e) => ({
          raw: e.raw,
          ...(e.options?.region !== undefined && { region: e.options.region }),
          canonical: e.canonical,
          ...(e.note !== undefined && { note: e.note }),
        })),
        length.accepted,
      ],
      rejected: [
        ...kind.counterExamples.map((e) => ({
          raw: e.raw,
          ...(e.options?.region !== undefined && { region: e.options.region }),
          error: e.code,
          ...(e.note !== undefined && { note: e.note }),
        })),
        length.rejected,
      ],
    };
  });
  const vectors = {
    description:
      'Canonicalization vectors for Overlap indicator kinds (spec/indicators.md; each kind names its rules version). Each "raw" input (with "region" where given) must canonicalize to "canonical", or be rejected with the "error" code. "max_length" counts UTF-16 code units of the untrimmed input; "trimmed" lists the code points trimming removes, as inclusive ranges.',
    rule_dependencies: RULE_DEPENDENCIES,
    rule_data: RULE_DATA,
    trimmed: TRIMMED_CODE_POINTS.map(([first, last]) => (first === last ? hex(first) : `${hex(first)}..${hex(last)}`)),
    kinds,
  };
  return `${JSON.stringify(vectors, null, 2)}\n`;
}
