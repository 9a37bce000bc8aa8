/**
 * What an indicator kind is (modelled on a "signal type"): a name, the version of its rules, a zod
 * schema of its canonical form, `canonicalize`, and examples that double as tests and as the
 * vectors of spec/indicators.md. Each kind lives in its own module under kinds/ and is built with
 * `defineKind`, which adds the checks every kind shares.
 *
 * Threat: two labs only match a suspect if both produce the same bytes, so canonicalize must be a
 * function of the identifier alone (no locale, no clock, no network) and idempotent.
 */
import type { z } from 'zod';
import { IndicatorError, type IndicatorErrorCode } from './errors.js';
import type { IndicatorKindName } from './kind-names.js';
import { isBlank } from './text.js';

export interface CanonicalizeOptions {
  /** ISO 3166-1 alpha-2 region (e.g. `US`) to read phone numbers written without `+` or `00`. */
  region?: string;
}

export interface KindExample {
  raw: string;
  canonical: string;
  options?: CanonicalizeOptions;
  note?: string;
}

export interface KindCounterExample {
  raw: string;
  code: IndicatorErrorCode;
  options?: CanonicalizeOptions;
  note?: string;
}

export interface IndicatorKind {
  readonly name: IndicatorKindName;
  /** Version of this kind's canonicalization rules; a change of output is a new version. */
  readonly rulesVersion: number;
  /**
   * Longest raw input accepted, in UTF-16 code units of the untrimmed input (a code point above
   * U+FFFF counts 2); longer is `TOO_LONG` (spec/indicators.md §1).
   */
  readonly maxLength: number;
  /** One line for people: what the canonical form is. */
  readonly summary: string;
  /** The canonical form: everything `canonicalize` returns matches it. */
  readonly schema: z.ZodType<string>;
  /** The canonical value of `raw`, or an `IndicatorError` saying why it has none. */
  canonicalize(raw: string, options?: CanonicalizeOptions): string;
  readonly examples: readonly KindExample[];
  readonly counterExamples: readonly KindCounterExample[];
}

export interface KindDefinition extends Omit<IndicatorKind, 'canonicalize'> {
  canonicalize(raw: string, options: CanonicalizeOptions): string;
}

/**
 * The checks every kind shares, in this order (spec/indicators.md §1): `BAD_TYPE`, `TOO_LONG` (on the
 * untrimmed input), `EMPTY` (nothing but white space), `BAD_TEXT` (an unpaired surrogate); then the
 * kind's own rules.
 */
export function defineKind(definition: KindDefinition): IndicatorKind {
  const { maxLength, canonicalize, ...rest } = definition;
  return {
    ...rest,
    maxLength,
    canonicalize(raw: string, options: CanonicalizeOptions = {}): string {
      if (typeof raw !== 'string') {
        throw new IndicatorError('BAD_TYPE', `${definition.name} value must be a string, got ${typeof raw}`);
      }
      if (raw.length > maxLength) {
        throw new IndicatorError(
          'TOO_LONG',
          `${definition.name} value is ${raw.length} characters; at most ${maxLength}`,
        );
      }
      if (isBlank(raw)) throw new IndicatorError('EMPTY', `${definition.name} value is empty`);
      // A lone surrogate cannot be encoded as UTF-8 (it would become U+FFFD and collide with it).
      if (!isWellFormed(raw))
        throw new IndicatorError('BAD_TEXT', `${definition.name} value is not well-formed Unicode`);
      return canonicalize(raw, options);
    },
  };
}

function isWellFormed(text: string): boolean {
  return !/\p{Surrogate}/u.test(text);
}

/** Shortens untrusted input for an error message: at most 64 characters, control characters escaped. */
export function quote(raw: string): string {
  const shown = raw.length > 64 ? `${raw.slice(0, 61)}...` : raw;
  return JSON.stringify(shown);
}
