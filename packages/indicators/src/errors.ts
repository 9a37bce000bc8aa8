/**
 * The one error type of @overlap/indicators. Callers branch on `code`, never on the message.
 * Every rejected value carries one of these codes (spec/indicators.md lists what each means), so a
 * lab can count and fix rejections by reason.
 */
import { OverlapError } from '@overlap/errors';

export type IndicatorErrorCode =
  /** The kind name is not one Overlap knows. */
  | 'UNKNOWN_KIND'
  /** The value is not a string. */
  | 'BAD_TYPE'
  /** The value is not well-formed Unicode text (an unpaired surrogate). */
  | 'BAD_TEXT'
  /** The value is empty or only white space. */
  | 'EMPTY'
  /** The value is longer than any real identifier of its kind. */
  | 'TOO_LONG'
  | 'INVALID_EMAIL'
  | 'INVALID_PHONE'
  /** A national phone number without a region to read it in. */
  | 'REGION_REQUIRED'
  | 'INVALID_IP'
  | 'INVALID_IP_PREFIX'
  | 'INVALID_DOMAIN'
  /** A domain that is itself a public suffix, or under none, has no registrable domain. */
  | 'NO_REGISTRABLE_DOMAIN'
  | 'INVALID_URL'
  | 'INVALID_ACCOUNT'
  | 'INVALID_PAYMENT_FINGERPRINT'
  | 'INVALID_WALLET'
  /** A wallet address whose checksum does not verify. */
  | 'BAD_CHECKSUM'
  | 'INVALID_ASN'
  | 'INVALID_JA4'
  | 'INVALID_JA4H'
  /** A prompt with no word left once normalized (only numbers, URLs, punctuation, …). */
  | 'INVALID_PROMPT'
  /** A record lacks a field it needs (a kind, a value). */
  | 'MISSING_FIELD'
  /** A record is malformed: wrong column count, not a JSON object, an unknown field. */
  | 'BAD_RECORD'
  /** The file itself cannot be read as its format (an unclosed quote, a bad CSV header, …). */
  | 'BAD_FILE'
  /** A STIX object that is not an indicator this importer reads (other types, patterns, operators). */
  | 'UNSUPPORTED_STIX';

/** Where a file-level error (`BAD_FILE`) is, when that is known: for programs, and for callers that name the file. */
export interface IndicatorErrorDetails {
  /** The file, when the caller that opened it added its name (the importers read streams and never know it). */
  file?: string;
  /** 1-based line. */
  line?: number;
  /** 0-based byte offset in the input. */
  byte?: number;
  /** The message without its place (`line N: `), for a caller that writes the place its own way. */
  reason?: string;
}

export class IndicatorError extends OverlapError<IndicatorErrorCode, IndicatorErrorDetails> {
  override readonly name = 'IndicatorError';
}
