/**
 * A lab's session results as a STIX 2.1 bundle (OASIS STIX 2.1; patterning in §9): an identity for
 * the session, and per result an indicator and a sighting by this lab. The ids are derived from the
 * document (no clock, no randomness), so writing the same results twice gives the same bytes and a
 * platform that imports both sees one set of objects.
 *
 * With the results' sources (traceResults), each indicator has an external reference (STIX 2.1
 * §2.5) to the lab's own record: `source_name` "<lab> input", the line, the label, and the
 * record's id as `external_id`. They are the lab's internal identifiers: a bundle written with them
 * is for the lab's own platform.
 *
 * Threat: values come from suspects' data and lab names from other labs: pattern strings are
 * escaped so a value cannot end its string and add comparisons.
 */
import { sha256, toHex } from '@overlap/crypto';
import type { IndicatorKindName } from '@overlap/indicators';
import type { RevealPolicy } from '@overlap/protocol';
import type { RecordSource } from './result-trace.js';
import type { CheckedResult, SessionResults } from './results-document.js';

/** A STIX pattern string literal (STIX 2.1 §9, Patterning): `'` and `\` are backslash-escaped, nothing else is. */
function stixString(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function stixPattern(kind: IndicatorKindName, value: string): string {
  switch (kind) {
    case 'email':
      return `[email-addr:value = ${stixString(value)}]`;
    case 'ip':
    case 'ip_prefix':
      // canonical IPv6 always has a colon and IPv4 never does; a prefix keeps its CIDR length
      return `[${value.includes(':') ? 'ipv6-addr' : 'ipv4-addr'}:value = ${stixString(value)}]`;
    case 'domain':
    case 'registrable_domain':
      return `[domain-name:value = ${stixString(value)}]`;
    case 'url':
      return `[url:value = ${stixString(value)}]`;
    case 'asn':
      return `[autonomous-system:number = ${value.slice(2)}]`;
    case 'phone':
    case 'account':
    case 'payment_fingerprint':
    case 'crypto_wallet':
    case 'ja4':
    case 'ja4h':
    case 'prompt_template':
      // STIX 2.1 has no cyber-observable object for these: a custom object path (patterns may name any
      // object type name; `x-` marks it as ours), so platforms keep the pattern even if they
      // cannot turn it into an observable.
      return `[x-overlap-indicator:kind = ${stixString(kind)} AND x-overlap-indicator:value = ${stixString(value)}]`;
  }
}

/**
 * An RFC 4122 UUID from SHA-256 of the parts (JSON-encoded, so no two lists of parts collide),
 * with the version nibble set to 5 and the variant bits to 10, like a name-based UUIDv5. STIX
 * prefers UUIDv4 for SDOs; determinism matters more here (a re-import updates, not duplicates).
 */
function stableUuid(...parts: string[]): string {
  const bytes = sha256(new TextEncoder().encode(JSON.stringify(parts))).subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = toHex(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function policyText(policy: RevealPolicy): string {
  if (policy.kind === 'labs') return 'labs (each indicator comes with the other labs that hold it)';
  if (policy.kind === 'count') return 'count (each indicator comes with how many other labs hold it)';
  return `threshold ${policy.t} (only indicators held by at least ${policy.t} labs, without who or how many)`;
}

function revealed(policy: RevealPolicy, r: CheckedResult): string {
  const { template } = r;
  if (template !== undefined) {
    // A prompt template is held in part: say how much of it, per lab when the policy names them.
    const figures =
      typeof template.matched === 'number'
        ? `${template.matched} of its ${template.bands} bands matched (Jaccard ≈ ${template.jaccard})`
        : Object.entries(template.matched)
            .map(
              ([lab, n]) =>
                `${lab}: ${n} of ${template.bands} bands (Jaccard ≈ ${(template.jaccard as Record<string, number>)[lab]})`,
            )
            .join('; ');
    return `a prompt template standing for ${template.prompts} of its prompts, ${figures}`;
  }
  if (policy.kind === 'labs') return `also held by ${r.labs.join(', ')}`;
  if (policy.kind === 'count') return `held by ${r.count} other ${r.count === 1 ? 'lab' : 'labs'}`;
  return `held by at least ${policy.t} labs`;
}

function sightingCount(policy: RevealPolicy, r: CheckedResult): { count?: number } {
  if (policy.kind === 'labs') return { count: r.labs.length };
  if (policy.kind === 'count' && r.count !== undefined) return { count: r.count };
  return {};
}

/** An external reference (STIX 2.1 §2.5) to the lab's own record of a result. */
function inputReference(lab: string, source: RecordSource): object {
  const label = source.label === undefined ? '' : ` (${source.label})`;
  return {
    source_name: `${lab} input`,
    description: `line ${source.line} of the input of ${lab}${label}`,
    ...(source.id !== undefined && { external_id: source.id }),
  };
}

export function stixBundle(
  doc: SessionResults,
  results: CheckedResult[],
  seed: string,
  sourceOf?: (r: CheckedResult) => RecordSource | undefined,
): string {
  // STIX timestamps are RFC 3339 UTC with created/modified to the millisecond: toISOString is both.
  const at = new Date(doc.finished).toISOString();
  // The identity is the session, the same for every lab in it; indicators and sightings are per lab.
  const identityId = `identity--${stableUuid('identity', seed, doc.session)}`;
  const head = (type: string, id: string) => ({ type, spec_version: '2.1', id, created: at, modified: at });
  const objects: object[] = [
    {
      ...head('identity', identityId),
      name: `Overlap session ${doc.session}`,
      description: `Overlap private set intersection session ${doc.session}, recorded in the relay log ${doc.relay}. Policy: ${policyText(doc.policy)}.`,
      identity_class: 'system',
    },
  ];
  for (const r of results) {
    const item = [seed, doc.session, doc.lab, r.kind, r.value];
    const indicatorId = `indicator--${stableUuid('indicator', ...item)}`;
    const what = revealed(doc.policy, r);
    const source = sourceOf?.(r);
    objects.push(
      {
        ...head('indicator', indicatorId),
        created_by_ref: identityId,
        name: `${r.kind} ${r.value}`,
        description: `An indicator of ${doc.lab}, ${what} (Overlap session ${doc.session}).`,
        indicator_types: ['malicious-activity'],
        pattern: stixPattern(r.kind, r.value),
        pattern_type: 'stix',
        valid_from: at,
        ...(source !== undefined && { external_references: [inputReference(doc.lab, source)] }),
      },
      {
        ...head('sighting', `sighting--${stableUuid('sighting', ...item)}`),
        created_by_ref: identityId,
        description: `${doc.lab} holds this indicator; it is ${what}.`,
        first_seen: at,
        last_seen: at,
        ...sightingCount(doc.policy, r),
        sighting_of_ref: indicatorId,
        where_sighted_refs: [identityId],
      },
    );
  }
  const bundle = { type: 'bundle', id: `bundle--${stableUuid('bundle', seed, doc.session, doc.lab)}`, objects };
  return `${JSON.stringify(bundle, null, 2)}\n`;
}
