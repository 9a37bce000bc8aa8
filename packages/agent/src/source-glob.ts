/**
 * The file-name patterns of a `newest` suspect source (`suspects-*.csv`): a small, strict glob
 * matched against a base name only. `*` is any run of characters, `?` one character, `[abc]`,
 * `[a-z]` and `[!a-z]` one character of (or not of) a set; `\` makes the next character literal.
 * Everything else is itself, case-sensitively.
 *
 * Why our own: no glob library is a direct dependency of the workspace (picomatch is only there
 * through vite's fdir), and Node 20's `path.matchesGlob` is experimental (it prints an
 * ExperimentalWarning and may change). This is one regular expression, built from a pattern we
 * check strictly, so a mistyped pattern is a `BAD_CONFIG` the operator sees at once rather than a
 * pattern that quietly matches nothing, or everything.
 *
 * Threat: the agent sending a file the lab did not mean as its list. A pattern with a path
 * separator could reach outside the directory, so it is refused. A name that starts with `.` is
 * matched only by a pattern that starts with a literal `.`, as in a shell: editors' swap files
 * and the temporary files of atomic writers (`.suspects.csv.1a2b.tmp`, half written) are hidden
 * files, and must not become "the newest list".
 */
import { AgentError } from './errors.js';

/** A compiled pattern: `matches(name)` for a base name. */
export interface NamePattern {
  readonly pattern: string;
  matches(name: string): boolean;
}

/** Compiles `pattern`, or throws `BAD_CONFIG` saying what is wrong with it. */
export function compileNamePattern(pattern: string): NamePattern {
  const bad = (why: string) => new AgentError('BAD_CONFIG', `the file name pattern ${JSON.stringify(pattern)} ${why}`);
  if (pattern === '') throw bad('is empty');
  if (pattern.includes('/')) throw bad('has a path separator: it matches base names only (put the folder in `dir`)');
  if (pattern.includes('\0')) throw bad('has a NUL character');
  const chars = [...pattern]; // code points, so `?` and classes take whole characters
  let source = chars[0] === '.' ? '' : '(?!\\.)';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '\\') {
      const next = chars[++i];
      if (next === undefined) throw bad('ends in a lone \\');
      source += literal(next);
    } else if (c === '[') {
      const end = classEnd(chars, i);
      if (end < 0) throw bad('has a [ that is never closed');
      source += characterClass(chars.slice(i + 1, end), bad);
      i = end;
    } else source += literal(c);
  }
  const regexp = new RegExp(`^${source}$`, 'su');
  return { pattern, matches: (name) => regexp.test(name) };
}

/** Where the class opened at `open` closes: a `]` right after `[` or `[!` is a member, not the end. */
function classEnd(chars: readonly string[], open: number): number {
  let i = open + 1;
  if (chars[i] === '!') i++;
  if (chars[i] === ']') i++;
  for (; i < chars.length; i++) {
    if (chars[i] === '\\') i++;
    else if (chars[i] === ']') return i;
  }
  return -1;
}

function characterClass(inner: string[], bad: (why: string) => AgentError): string {
  let negated = false;
  if (inner[0] === '!') {
    negated = true;
    inner.shift();
  } else if (inner[0] === '^') {
    // Shells disagree on `[^…]` (POSIX leaves it undefined): one spelling, not a guess.
    throw bad('has a class [^…]: write [!…] for "not one of"');
  }
  let members = '';
  for (let i = 0; i < inner.length; i++) {
    let c = inner[i] as string;
    if (c === '\\') c = inner[++i] as string; // classEnd made sure something follows
    if (inner[i + 1] === '-' && i + 2 < inner.length) {
      let to = inner[i + 2] as string;
      let skip = 2;
      if (to === '\\') {
        to = inner[i + 3] as string;
        skip = 3;
      }
      if ((c.codePointAt(0) as number) > (to.codePointAt(0) as number)) throw bad(`has a reversed range ${c}-${to}`);
      members += `${literal(c)}-${literal(to)}`;
      i += skip;
    } else members += literal(c);
  }
  return `[${negated ? '^' : ''}${members}]`;
}

/** One character as a RegExp escape that means only itself, inside a class or out. */
function literal(c: string): string {
  return `\\u{${(c.codePointAt(0) as number).toString(16)}}`;
}
