/**
 * `prompt_template`: a prompt's text, normalized for near-duplicate matching (prompt/prompt-text.ts).
 *
 * The canonical value is the normalized text, and it is never sent: a lab collapses its prompts
 * into templates (prompt/template-collector.ts) and sends each template as its b MinHash bands
 * (prompt/minhash.ts), b indicator values of this kind (`NN:` and hex digits) that the exchange
 * hashes like any other. The results, band by band, are gathered back into templates by the lab
 * (@overlap/client's template-results.ts), which shows each as its own text and prompt id.
 */
import { z } from 'zod';
import { defineKind } from '../kind.js';
import { normalizePromptText } from '../prompt/prompt-text.js';

const NORMALIZED =
  /^(?:<(?:code|url|email|uuid|quote|num)>|[\p{L}\p{M}\p{N}]+)(?: (?:<(?:code|url|email|uuid|quote|num)>|[\p{L}\p{M}\p{N}]+))*$/u;

export const promptTemplateKind = defineKind({
  name: 'prompt_template',
  rulesVersion: 1,
  summary: "a prompt's words, NFKC and lowercase, variable parts masked (<num>, <url>, <quote>, …)",
  schema: z.string().regex(NORMALIZED, 'not a normalized prompt'),
  maxLength: 32768,
  canonicalize: (raw) => normalizePromptText(raw),
  examples: [
    {
      raw: 'Articulate your internal reasoning step by step before answering: What is 17 × 23?',
      canonical: 'articulate your internal reasoning step by step before answering what is <num> <num>',
      note: '× is a symbol: it separates words',
    },
    {
      raw: '  ARTICULATE   your internal\treasoning,\nstep-by-step!!  ',
      canonical: 'articulate your internal reasoning step by step',
      note: 'case, white space and punctuation',
    },
    {
      raw: '1. Grade the answer below.\n2) Use the rubric at https://example.com/rubric?v=2.\nStep 3: reply to ops@example.org',
      canonical: '<num> grade the answer below <num> use the rubric at <url> step <num> reply to <email>',
      note: 'numbering, a URL (with its trailing dot) and an e-mail address',
    },
    {
      raw: 'Rewrite "the quick brown fox" in the style of “Hemingway”, id 123e4567-e89b-12d3-a456-426614174000',
      canonical: 'rewrite <quote> in the style of <quote> id <uuid>',
      note: 'quoted spans (straight and curly) and a UUID',
    },
    {
      raw: 'Explain this code: ```python\nprint(1)\n``` and `x = 2`',
      canonical: 'explain this code <code> and <code>',
      note: 'a fenced block and inline code',
    },
    {
      raw: 'Ｅｘｐｌａｉｎ ＧＰＴ４ and version 2.5.1 or 3,000 tokens',
      canonical: 'explain gpt4 and version <num> or <num> tokens',
      note: 'NFKC folds full-width forms; digits inside a word stay',
    },
    {
      raw: 'Straße İstanbul ΣΊΣΥΦΟΣ',
      canonical: 'straße i̇stanbul σίσυφοσ',
      note: 'Unicode lowercase, final ς folded to σ, ß kept',
    },
    { raw: 'keep <num> and <url> as written', canonical: 'keep <num> and <url> as written', note: 'idempotent' },
  ],
  counterExamples: [
    { raw: '12 34, https://example.com "quoted"', code: 'INVALID_PROMPT', note: 'only placeholders left' },
    { raw: '!!! ??? ...', code: 'INVALID_PROMPT', note: 'only punctuation' },
    { raw: '   ', code: 'EMPTY' },
  ],
});
