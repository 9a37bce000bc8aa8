/**
 * Small validators for what the relay answers: each decoded CBOR value is checked completely
 * against the shape spec/relay-api.md §3 gives it, and every problem is reported with its path,
 * before anything in it is trusted. Unknown map keys are ignored (a newer relay may add fields)
 * and are not copied into the result.
 *
 * Written here rather than with zod to keep the SDK's dependencies to the workspace's own packages.
 */
import { ClientError } from './errors.js';

/** Checks `value` at `path`, records each problem in `issues`, and returns the value as `T`. */
export type Check<T> = (value: unknown, path: string, issues: string[]) => T;

type Fields = Record<string, Check<unknown>>;
type Checked<F extends Fields> = { [K in keyof F]: F[K] extends Check<infer T> ? T : never };

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

export const uint: Check<number> = (value, path, issues) => {
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    issues.push(`${path}: expected a uint, got ${describe(value)}`);
  return value as number;
};

export const text: Check<string> = (value, path, issues) => {
  if (typeof value !== 'string') issues.push(`${path}: expected text, got ${describe(value)}`);
  return value as string;
};

export const keyId: Check<string> = (value, path, issues) => {
  if (typeof value !== 'string' || !/^[0-9a-f]{32}$/.test(value)) issues.push(`${path}: expected a key id`);
  return value as string;
};

export function bytes(length?: number): Check<Uint8Array> {
  return (value, path, issues) => {
    if (!(value instanceof Uint8Array) || (length !== undefined && value.length !== length)) {
      issues.push(`${path}: expected ${length ?? 'a byte string of any length'} bytes, got ${describe(value)}`);
    }
    return value as Uint8Array;
  };
}

export function oneOf<const T extends readonly string[]>(...options: T): Check<T[number]> {
  return (value, path, issues) => {
    if (typeof value !== 'string' || !options.includes(value)) {
      issues.push(`${path}: expected one of ${options.join(', ')}`);
    }
    return value as T[number];
  };
}

export function arrayOf<T>(item: Check<T>): Check<T[]> {
  return (value, path, issues) => {
    if (!Array.isArray(value)) {
      issues.push(`${path}: expected an array, got ${describe(value)}`);
      return [];
    }
    return value.map((v, i) => item(v, `${path}[${i}]`, issues));
  };
}

/** A map with `required` keys and, when present, `optional` ones. */
export function object<R extends Fields, O extends Fields = Record<never, never>>(
  required: R,
  optional?: O,
): Check<Checked<R> & Partial<Checked<O>>> {
  return (value, path, issues) => {
    const out: Record<string, unknown> = {};
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
      issues.push(`${path || 'answer'}: expected a map, got ${describe(value)}`);
      return out as Checked<R> & Partial<Checked<O>>;
    }
    const map = value as Record<string, unknown>;
    const at = (key: string) => (path ? `${path}.${key}` : key);
    for (const [key, check] of Object.entries(required)) {
      if (!Object.hasOwn(map, key)) issues.push(`${at(key)}: missing`);
      else out[key] = check(map[key], at(key), issues);
    }
    for (const [key, check] of Object.entries(optional ?? {})) {
      if (Object.hasOwn(map, key)) out[key] = check(map[key], at(key), issues);
    }
    return out as Checked<R> & Partial<Checked<O>>;
  };
}

/** Runs `check` on a whole answer; throws BAD_RESPONSE listing every problem. */
export function parseAnswer<T>(check: Check<T>, value: unknown, what: string): T {
  const issues: string[] = [];
  const result = check(value, '', issues);
  if (issues.length > 0) {
    const shown = issues.slice(0, 10).join('; ');
    const more = issues.length > 10 ? ` (and ${issues.length - 10} more)` : '';
    throw new ClientError('BAD_RESPONSE', `the relay's answer to ${what} is malformed: ${shown}${more}`);
  }
  return result;
}
