/**
 * The records importers produce and the normalizer consumes. A record is either an indicator as
 * the file states it (not yet canonical) or an error already found while reading it; either way it
 * carries where it came from (a line number, and for STIX the object's id), so that every input
 * record gets exactly one output, in input order.
 */
import type { IndicatorErrorCode } from '../errors.js';

export interface RecordOrigin {
  /** 1-based line of the input (for STIX: the object's 1-based position in `objects`). */
  line: number;
  /** The record's own id: a STIX object's id, a CSV `id` column or JSONL `id` field, or a chat line's `custom_id` or `id`. */
  id?: string;
}

export interface RawIndicatorRecord extends RecordOrigin {
  /** The kind the record names, or undefined to use the caller's default (`--kind`). */
  kind: string | undefined;
  value: string;
  region?: string;
  firstSeen?: string;
  confidence?: number;
  label?: string;
}

export interface RecordError {
  code: IndicatorErrorCode;
  message: string;
}

export interface RawErrorRecord extends RecordOrigin {
  error: RecordError;
}

export type RawRecord = RawIndicatorRecord | RawErrorRecord;

export interface AcceptedRecord extends RecordOrigin {
  kind: string;
  value: string;
  /** Line of the first record with the same kind and canonical value. */
  duplicateOf?: number;
  firstSeen?: string;
  confidence?: number;
  label?: string;
}

export type NormalizedRecord = AcceptedRecord | RawErrorRecord;

export function isErrorRecord(record: RawRecord | NormalizedRecord): record is RawErrorRecord {
  return 'error' in record;
}

/** Text or bytes as they arrive from a file or a stream (a Node Readable is one). */
export type TextSource = AsyncIterable<string | Uint8Array>;
