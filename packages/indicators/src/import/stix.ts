/**
 * STIX 2.1 bundle import: every `indicator` object whose `pattern_type` is `stix` and whose
 * pattern names values directly (stix-pattern.ts) yields one record per value, carrying the
 * indicator's id; `ipv4-addr`/`ipv6-addr` values with a `/` become `ip_prefix`. Every other object
 * is reported with its id (`UNSUPPORTED_STIX`), never dropped. A bundle is one JSON document, so it
 * is read whole, up to `maxBytes` (default 256 MiB): bundles far larger are better split.
 */
import { badFile } from './file-error.js';
import { utf8Strings } from './lines.js';
import type { RawRecord, TextSource } from './record.js';
import { type PatternValue, parseStixPattern } from './stix-pattern.js';

export const DEFAULT_MAX_STIX_BYTES = 256 * 1024 * 1024;

const KIND_OF: Record<PatternValue['objectType'], string> = {
  'email-addr': 'email',
  'ipv4-addr': 'ip',
  'ipv6-addr': 'ip',
  'domain-name': 'domain',
  url: 'url',
};

export async function* readStix(source: TextSource, maxBytes = DEFAULT_MAX_STIX_BYTES): AsyncGenerator<RawRecord> {
  let text = '';
  let bytes = 0;
  const counted = async function* () {
    for await (const chunk of source) {
      // size comes from the input: bound it before it all sits in memory
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (bytes > maxBytes) throw badFile(`the STIX bundle is larger than ${maxBytes} bytes (split it)`);
      yield chunk;
    }
  };
  for await (const piece of utf8Strings(counted())) text += piece;
  let bundle: unknown;
  try {
    bundle = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    throw badFile('the STIX bundle is not valid JSON');
  }
  const objects = (bundle as { type?: unknown; objects?: unknown }).objects;
  if ((bundle as { type?: unknown }).type !== 'bundle' || !Array.isArray(objects)) {
    throw badFile('not a STIX 2.1 bundle (expected "type": "bundle" and an "objects" array)');
  }
  for (const [index, object] of objects.entries()) {
    yield* objectRecords(index + 1, object);
  }
}

function* objectRecords(line: number, object: unknown): Generator<RawRecord> {
  const o = (typeof object === 'object' && object !== null ? object : {}) as Record<string, unknown>;
  const id = typeof o.id === 'string' ? o.id : `objects[${line - 1}]`;
  const unsupported = (message: string): RawRecord => ({
    line,
    id,
    error: { code: 'UNSUPPORTED_STIX', message: `${id}: ${message}` },
  });
  if (o.type !== 'indicator') {
    yield unsupported(`a ${typeof o.type === 'string' ? o.type : 'typeless'} object is not an indicator`);
    return;
  }
  if (o.pattern_type !== 'stix') {
    yield unsupported(`pattern_type ${JSON.stringify(o.pattern_type)} is not supported (only stix)`);
    return;
  }
  if (typeof o.pattern !== 'string') {
    yield unsupported('the indicator has no pattern string');
    return;
  }
  if (o.revoked === true) {
    yield unsupported('the indicator is revoked');
    return;
  }
  if (
    o.confidence !== undefined &&
    !(Number.isInteger(o.confidence) && (o.confidence as number) >= 0 && (o.confidence as number) <= 100)
  ) {
    yield { line, id, error: { code: 'BAD_RECORD', message: `${id}: confidence must be an integer from 0 to 100` } };
    return;
  }
  let values: PatternValue[];
  try {
    values = parseStixPattern(o.pattern);
  } catch (error) {
    yield unsupported(error instanceof Error ? error.message : String(error));
    return;
  }
  for (const { objectType, value } of values) {
    if ((objectType === 'ipv4-addr' && value.includes(':')) || (objectType === 'ipv6-addr' && !value.includes(':'))) {
      yield {
        line,
        id,
        error: { code: 'BAD_RECORD', message: `${id}: ${objectType} holds ${JSON.stringify(value.slice(0, 64))}` },
      };
      continue;
    }
    const kind =
      (objectType === 'ipv4-addr' || objectType === 'ipv6-addr') && value.includes('/')
        ? 'ip_prefix'
        : KIND_OF[objectType];
    const record: RawRecord = { line, id, kind, value };
    if (typeof o.valid_from === 'string') record.firstSeen = o.valid_from;
    if (typeof o.confidence === 'number') record.confidence = o.confidence;
    if (typeof o.name === 'string') record.label = o.name;
    yield record;
  }
}
