/**
 * spec/vectors/prompt-templates.json: the `prompt_template` MinHash of spec/indicators.md §2 step by
 * step, for an implementation in another language: the rules version's parameters, every row's
 * constants (a_i, b_i), and for each prompt its normalized text, its shingles with their hashes,
 * its signature and its band values; then pairs with the bands they share and the Jaccard
 * similarity that implies, and a list of prompts collapsed into templates. Computed by
 * packages/indicators; test/spec-vectors.test.ts checks that the file regenerates byte for byte
 * and recomputes every entry independently (node:crypto's SHA-256, BigInt arithmetic).
 */
import {
  COLLAPSE_OPTIONS,
  canonicalize,
  impliedJaccard,
  MINHASH_PRIME,
  minHashRows,
  PROMPT_TEMPLATE_PARAMETERS,
  promptShingles,
  promptSignature,
  sharedBands,
  shingleHash,
  signatureBands,
  TemplateCollector,
} from '@overlap/indicators';

export const PROMPT_VECTOR_INPUTS = [
  'Articulate your internal reasoning step by step before answering the following question about cell biology. Number each step, and finally give a short answer of at most 3 sentences.',
  '1) Articulate  your internal reasoning, step by step, before answering the following question about quantum tunnelling!! Number each step and then give a brief answer of at most 5 sentences.',
  'You are a strict grader. Grade the answer below against this rubric: "correctness, completeness, clarity". Reply with a score from 1 to 10 and one sentence of justification.',
  'What is a good recipe for a vegetarian lasagna with spinach and ricotta for four people?',
  'Summarize',
  'ΣΊΣΥΦΟΣ pushes the stone: explain the myth in 3 lines, see https://example.org/myth',
  'Articulate your internal reasoning step by step before answering the following question about plate tectonics. Number each step; finally give a short answer of at most 2 sentences.',
  'you are a strict grader: grade the answer below against this rubric "accuracy, tone". reply with one score from 1 to 5 and a single sentence of justification',
] as const;

/** Pairs of PROMPT_VECTOR_INPUTS (by index) whose shared bands are given. */
export const PROMPT_VECTOR_PAIRS: readonly (readonly [number, number])[] = [
  [0, 1],
  [0, 2],
  [0, 3],
  [2, 3],
  [0, 6],
  [2, 7],
];

export function buildPromptTemplateVectors(): string {
  const parameters = PROMPT_TEMPLATE_PARAMETERS;
  const rows = minHashRows(parameters.bands * parameters.rows);
  const prompts = PROMPT_VECTOR_INPUTS.map((raw) => {
    const normalized = canonicalize('prompt_template', raw);
    const shingles = promptShingles(normalized);
    const signature = promptSignature(normalized);
    return {
      raw,
      normalized,
      shingles: shingles.map((shingle) => ({ shingle, x: shingleHash(shingle) })),
      signature: [...signature],
      bands: signatureBands(signature),
    };
  });
  const pairs = PROMPT_VECTOR_PAIRS.map(([i, j]) => {
    const shared = sharedBands(
      Uint32Array.from(prompts[i]?.signature ?? []),
      Uint32Array.from(prompts[j]?.signature ?? []),
    );
    return { prompts: [i, j], shared_bands: shared, implied_jaccard: impliedJaccard(shared) };
  });
  const collector = new TemplateCollector();
  const assigned = PROMPT_VECTOR_INPUTS.map((raw, i) => collector.add(canonicalize('prompt_template', raw), i + 1));
  const vectors = {
    description:
      'MinHash vectors of the prompt_template kind (spec/indicators.md §2). "rows" gives a_i and b_i for row i; x is the shingle hash (first 4 bytes of SHA-256 of its UTF-8, big-endian, mod p); signature[i] = min over shingles of (a_i·x + b_i) mod p; band j is its index (2 digits) and ":" then rows j·r … j·r+r−1 as 8 hex digits each. "templates" collapses the prompts in order (lines 1…) into templates (a prompt joins the earlier template with a member, one of its first `members` distinct prompts, sharing the most bands, at least `min_bands`; else starts one): "assigned" is the template each joined.',
    rules_version: 1,
    parameters: {
      shingle_size: parameters.shingleSize,
      bands: parameters.bands,
      rows: parameters.rows,
      min_bands: parameters.minBands,
      prime: MINHASH_PRIME,
      row_label: 'overlap/prompt_template/v1/minhash/',
    },
    rows: Array.from(rows.a, (a, i) => ({ a, b: rows.b[i] as number })),
    prompts,
    pairs,
    templates: {
      collapse: { min_bands: COLLAPSE_OPTIONS.minBands, members: COLLAPSE_OPTIONS.members },
      assigned,
      templates: collector.templates.map((t) => ({ line: t.line, prompts: t.prompts })),
    },
  };
  return `${JSON.stringify(vectors, null, 2)}\n`;
}
