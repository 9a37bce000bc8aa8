/**
 * White space as the indicator rules use it (spec/indicators.md §1, "Trim"): an explicit list of
 * code points, so that what a rule trims does not depend on a language's notion of white space
 * (JavaScript's `trim`, Python's `str.strip` and Go's `strings.TrimSpace` all differ, and their
 * sets follow the Unicode version of the runtime).
 *
 * The set is exactly what rules version 1 trimmed (ECMAScript's WhiteSpace and LineTerminator):
 * U+0009–U+000D, U+0020, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000
 * and U+FEFF. Not in it: U+0085, U+001C–U+001F, U+180E, U+200B.
 */

const TRIMMED = '\\u0009-\\u000D\\u0020\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF';
const EDGES = new RegExp(`^[${TRIMMED}]+|[${TRIMMED}]+$`, 'g');
const BLANK = new RegExp(`^[${TRIMMED}]*$`);
const ANY = new RegExp(`[${TRIMMED}]`);

/** The code points `trimWhiteSpace` removes, as inclusive ranges (written into the vectors). */
export const TRIMMED_CODE_POINTS: readonly (readonly [number, number])[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];

/** `text` without the listed white space at either end. */
export function trimWhiteSpace(text: string): string {
  return text.replace(EDGES, '');
}

/** Whether `text` is empty or only the listed white space. */
export function isBlank(text: string): boolean {
  return BLANK.test(text);
}

/** Whether `text` holds any of the listed white space, anywhere. */
export function hasWhiteSpace(text: string): boolean {
  return ANY.test(text);
}
