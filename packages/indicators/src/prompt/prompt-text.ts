/**
 * A prompt's text normalized for near-duplicate matching (spec/indicators.md §2, `prompt_template`,
 * rules version 1): NFKC, Unicode lowercase (ς folded to σ), the variable parts of a prompt masked by placeholder
 * words, then the words alone joined by single spaces. Campaigns vary fillers, numbering, white
 * space, punctuation and case; the mask and the tokenization take those out before shingling, so
 * that what is left is the template a person would recognize.
 *
 * The masks apply in this order, each to what the previous left: fenced code blocks and inline
 * code (`<code>`), URLs (`<url>`), e-mail addresses (`<email>`), UUIDs (`<uuid>`), double-quoted
 * spans within a line (`<quote>`), numbers standing as their own word (`<num>`). Then a token is a
 * placeholder or a run of letters, marks and digits; everything else separates tokens. The result
 * is idempotent: a placeholder written in the input is kept as the placeholder.
 *
 * Written by hand because no library defines such a normalization; every step is a regular
 * expression written out in the spec so that another implementation computes the same text.
 */
import { IndicatorError } from '../errors.js';

export const PLACEHOLDERS = ['<code>', '<url>', '<email>', '<uuid>', '<quote>', '<num>'] as const;

const FENCED_CODE = /```[\s\S]*?(?:```|$)/gu;
const INLINE_CODE = /`[^`\n]*`/gu;
const URL = /\b(?:https?|ftp):\/\/[^\s<>"]+|\bwww\.[^\s<>"]+/gu;
const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
const UUID = /(?<![\p{L}\p{N}])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\p{L}\p{N}])/gu;
const QUOTED = /"[^"\n]*"|“[^”\n]*”|«[^»\n]*»|„[^“”\n]*[“”]|「[^」\n]*」/gu;
const NUMBER = /(?<![\p{L}\p{N}])\p{Nd}+(?:[.,:]\p{Nd}+)*(?![\p{L}\p{N}])/gu;
const TOKEN = /<(?:code|url|email|uuid|quote|num)>|[\p{L}\p{M}\p{N}]+/gu;

/** The tokens of `raw` once normalized: placeholders and words, in order. */
export function promptTokens(raw: string): string[] {
  const masked = raw
    .normalize('NFKC')
    .toLowerCase()
    // Final sigma: the lowercase mapping writes ς at a word's end; σ everywhere keeps words equal
    // however the text around them was cut or masked.
    .replaceAll('ς', 'σ')
    .replace(FENCED_CODE, ' <code> ')
    .replace(INLINE_CODE, ' <code> ')
    .replace(URL, ' <url> ')
    .replace(EMAIL, ' <email> ')
    .replace(UUID, ' <uuid> ')
    .replace(QUOTED, ' <quote> ')
    .replace(NUMBER, ' <num> ');
  return masked.match(TOKEN) ?? [];
}

const PLACEHOLDER_SET: ReadonlySet<string> = new Set(PLACEHOLDERS);

/**
 * The normalized text of a prompt: its tokens joined by single spaces. `INVALID_PROMPT` when no
 * word is left that is not a placeholder (a prompt of only numbers, links and punctuation says
 * nothing of its template).
 */
export function normalizePromptText(raw: string): string {
  const tokens = promptTokens(raw);
  if (!tokens.some((token) => !PLACEHOLDER_SET.has(token))) {
    throw new IndicatorError('INVALID_PROMPT', 'the prompt has no word left once normalized');
  }
  return tokens.join(' ');
}
