/**
 * The `results` check (spec/audit.md check 19): no result is logged before every chunk's hop proof
 * has verified (spec/protocol.md §5.2 step 6), and the matching recomputed from the logged final
 * tags gives, under the session's reveal policy, exactly the rows the relay signed for each lab and
 * kind. The recomputation is a plain map from tag to owners, independent of the relay's matcher.
 *
 * Threat: a relay that tells a lab less (or more) than the exchange showed, and signs it; the
 * final tags are in the log, so anyone holding the transcript can recompute the truth. And a relay
 * that releases results before the proofs are in (colluding with a hop that could not prove): the
 * relay signs the rows, so the relay is the culprit of every failure here.
 */
import { toHex } from '@overlap/crypto';
import { type ResultRow, type RevealPolicy, TAG_LENGTH } from '@overlap/protocol';
import type { ChunkIndex } from './chunk-index.js';
import { AuditError } from './errors.js';
import type { ProvenChunks } from './hop-proofs.js';
import type { FinalTags } from './hops.js';
import { payloadOf, type SessionView } from './logged-envelope.js';
import { chunksToProve } from './proven-chunks.js';
import type { SessionFacts } from './session-terms.js';
import { type AuditVerdict, fault, runCheck } from './verdict.js';
import { waitingOn } from './waiting.js';

/** The rows the relay signed, by `lab|kind`. */
type SignedRows = Map<string, { index: number; rows: ResultRow[] }>;

/** What the results check needs of the proof round: every chunk, and which were proven where. */
export interface ProofRoundOutcome {
  chunks: ChunkIndex;
  proven: ProvenChunks;
}

export function checkResults(
  view: SessionView,
  s: SessionFacts,
  finals: FinalTags,
  round: ProofRoundOutcome,
): AuditVerdict {
  const { labs, kinds, policy } = s.proposal;
  return runCheck('results', 'RESULT_MISMATCH', () => {
    try {
      return compareResults();
    } catch (error) {
      // The relay signs every result_rows: whatever is wrong with them is its doing.
      if (error instanceof AuditError && error.details?.culprit === undefined) {
        throw new AuditError(error.code, error.message, {
          cause: error,
          details: { ...error.details, culprit: view.relayKeyId },
        });
      }
      throw error;
    }
  });

  function compareResults(): string {
    const signed = signedRows(view, s);
    if (s.abort) {
      if (signed.size > 0) throw new AuditError('RESULT_UNEXPECTED', 'result rows in an aborted session');
      return 'no results: the session was aborted';
    }
    released(view, s, signed, round);
    let rows = 0;
    for (const kind of kinds) {
      const expected = recompute(finals.get(kind) as Uint8Array[], labs, policy);
      for (const [owner, lab] of labs.entries()) {
        const given = signed.get(`${lab}|${kind}`);
        if (!given) throw new AuditError('RESULT_MISSING', `no ${kind} result rows for ${lab}`);
        rows += compareRows(given, expected[owner] as Map<number, ResultRow>, `${lab}'s ${kind}`);
      }
    }
    return `${rows.toLocaleString('en-US')} rows for ${labs.length} labs × ${kinds.length} kinds, released after every hop proof verified, equal the matching recomputed from the final tags`;
  }
}

/**
 * Nothing released before every chunk of hop ≥ 1 has a verified proof logged before it (after the
 * challenge). A session with neither results nor every proof is not over: SESSION_INCOMPLETE names
 * the first lab it waits on (the relay, when it waits on none).
 */
function released(view: SessionView, s: SessionFacts, signed: SignedRows, round: ProofRoundOutcome): void {
  const firstRows = Math.min(...[...signed.values()].map((r) => r.index));
  const [challenge] = s.round.challenges;
  const unproven = chunksToProve(s).find((place) => !round.proven.has(place.key));
  const lastProof = Math.max(-1, ...round.proven.values());
  if (signed.size === 0) {
    if (challenge !== undefined && unproven === undefined) return; // then RESULT_MISSING below
    const [waited] = waitingOn(s, round.chunks, round.proven, Infinity);
    const culprit = waited?.lab ?? view.relayKeyId;
    throw fault(
      'SESSION_INCOMPLETE',
      `the session is neither aborted nor over: it waits on ${waited ? `${waited.lab}, for ${waited.owed}` : 'the relay'}`,
      { culprit },
    );
  }
  const early = (why: string) =>
    fault('RESULT_BEFORE_PROOFS', `log index ${firstRows}: results released ${why}`, {
      culprit: view.relayKeyId,
      index: firstRows,
    });
  if (challenge === undefined || challenge.index > firstRows) throw early('before the challenge: no hop was proven');
  if (unproven !== undefined) throw early(`though ${unproven.prover}'s proof of ${unproven.key} never verified`);
  if (lastProof > firstRows) throw early(`before the hop proof at log index ${lastProof}`);
}

/** Every `result_rows` envelope: of a lab and kind of the session, at most one each. */
function signedRows(view: SessionView, s: SessionFacts): SignedRows {
  const signed: SignedRows = new Map();
  for (const entry of view.envelopes) {
    if (entry.envelope.header.type !== 'result_rows') continue;
    const { index } = entry;
    const body = payloadOf('result_rows', entry);
    const key = `${body.lab}|${body.kind}`;
    if (!s.proposal.labs.includes(body.lab) || !s.proposal.kinds.includes(body.kind)) {
      throw new AuditError(
        'RESULT_UNEXPECTED',
        `log index ${index}: result rows of ${body.kind} for ${body.lab}, not of this session`,
        { details: { index } },
      );
    }
    if (signed.has(key)) {
      throw new AuditError(
        'RESULT_UNEXPECTED',
        `log index ${index}: a second set of ${body.kind} rows for ${body.lab}`,
        {
          details: { index },
        },
      );
    }
    signed.set(key, { index, rows: body.rows });
  }
  return signed;
}

/** The signed rows must be exactly the expected ones: none changed, added, repeated or left out. Returns their count. */
function compareRows(given: { index: number; rows: ResultRow[] }, expected: Map<number, ResultRow>, whose: string) {
  const { index } = given;
  const seen = new Set<number>();
  for (const row of given.rows) {
    const want = expected.get(row.position);
    if (seen.has(row.position)) {
      throw new AuditError('RESULT_MISMATCH', `log index ${index}: position ${row.position} twice`, {
        details: { index },
      });
    }
    seen.add(row.position);
    if (!want || !sameRow(want, row)) {
      throw new AuditError(
        'RESULT_MISMATCH',
        `log index ${index}: ${whose} row ${JSON.stringify(row)}; the logged final tags give ${want ? JSON.stringify(want) : 'no row'}`,
        { details: { index } },
      );
    }
  }
  if (seen.size !== expected.size) {
    const dropped = [...expected.keys()].find((p) => !seen.has(p));
    throw new AuditError('RESULT_MISMATCH', `log index ${index}: ${whose} rows leave out position ${dropped}`, {
      details: { index },
    });
  }
  return seen.size;
}

function sameRow(a: ResultRow, b: ResultRow): boolean {
  return a.position === b.position && a.count === b.count && a.labs?.join() === b.labs?.join();
}

/** Each lab's rows, by position, from the final tags: which other labs hold the same tag. */
function recompute(finals: Uint8Array[], labs: readonly string[], policy: RevealPolicy): Map<number, ResultRow>[] {
  const holders = new Map<string, number[]>();
  /** For each owner and position, the list of owners of that position's tag (shared with `holders`). */
  const heldBy = finals.map((tags, owner) =>
    Array.from({ length: tags.length / TAG_LENGTH }, (_, p) => {
      const tag = toHex(tags.subarray(p * TAG_LENGTH, (p + 1) * TAG_LENGTH));
      let list = holders.get(tag);
      if (list === undefined) {
        list = [];
        holders.set(tag, list);
      }
      if (!list.includes(owner)) list.push(owner);
      return list;
    }),
  );
  return heldBy.map((lists, owner) => {
    const rows = new Map<number, ResultRow>();
    lists.forEach((list, p) => {
      const others = list.filter((o) => o !== owner);
      if (policy.kind === 'threshold') {
        if (others.length + 1 >= policy.t) rows.set(p, { position: p });
      } else if (others.length > 0) {
        rows.set(
          p,
          policy.kind === 'labs'
            ? { position: p, labs: others.map((o) => labs[o] as string).sort() }
            : { position: p, count: others.length },
        );
      }
    });
    return rows;
  });
}
