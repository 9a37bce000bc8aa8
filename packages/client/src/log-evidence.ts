/**
 * Evidence that a relay's log contradicts what a lab remembered (spec/relay-api.md §7): the two
 * signed checkpoints and the consistency proof the relay gave (or why it gave none), written as
 * one JSON file that `overlap audit evidence` checks on its own.
 *
 *   { "type": "overlap-log-evidence", "version": 1, "relay": url, "log_key": vkey,
 *     "kind": "fork" / "rollback", "remembered": note, "received": note,
 *     "proof": [* base64] / null, "detail": tstr, "found_at": ISO 8601 }
 *
 * `fork`: the relay's proof does not show the smaller tree a prefix of the larger (or the sizes
 * are equal and the roots are not); `rollback`: the relay could not give a proof up to a size it
 * signed before. Both notes are signed by the log key: with equal sizes and different roots the
 * file alone proves the fork; otherwise it proves that the relay signed both and did not prove
 * them consistent, which an auditor may put to the relay again.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { equalBytes, fromCanonicalBase64, toBase64 } from '@overlap/crypto';
import { makePrivateDirectory, writeFileAtomic } from '@overlap/files';
import { type NoteVerifier, parseVerifierKey, verifyCheckpointNote, verifyConsistency } from '@overlap/log';
import { ClientError } from './errors.js';

export interface LogEvidence {
  type: 'overlap-log-evidence';
  version: 1;
  relay: string;
  log_key: string;
  kind: 'fork' | 'rollback';
  remembered: string;
  received: string;
  proof: string[] | null;
  detail: string;
  found_at: string;
}

export async function writeLogEvidence(
  dir: string,
  evidence: Omit<LogEvidence, 'type' | 'version' | 'proof'> & { proof: readonly Uint8Array[] | null },
): Promise<string> {
  await makePrivateDirectory(dir);
  const record: LogEvidence = {
    type: 'overlap-log-evidence',
    version: 1,
    ...evidence,
    proof: evidence.proof === null ? null : evidence.proof.map(toBase64),
  };
  const path = join(dir, `${evidence.found_at.replace(/[:.]/g, '-')}-${evidence.kind}.json`);
  await writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}

export interface EvidenceVerdict {
  /** `proven`: the file alone shows two histories; `signed`: both notes are the log's, unproven consistent. */
  verdict: 'proven' | 'signed';
  origin: string;
  sizes: [number, number];
  explanation: string;
}

/**
 * Checks an evidence file against the log key (the file's, or `logKey` when given: an auditor pins
 * its own). Throws `BAD_ARGUMENT` naming what fails: a note not signed by the key, another origin,
 * or a proof in the file that does hold (no contradiction at all).
 */
export async function checkLogEvidence(path: string, logKey?: string): Promise<EvidenceVerdict> {
  const bad = (detail: string) => new ClientError('BAD_ARGUMENT', `${path}: ${detail}`);
  let evidence: Partial<LogEvidence>;
  try {
    evidence = JSON.parse(await readFile(path, 'utf8')) as Partial<LogEvidence>;
  } catch (cause) {
    throw new ClientError('INPUT_UNREADABLE', `${path}: ${(cause as Error).message}`, { cause });
  }
  if (evidence.type !== 'overlap-log-evidence' || evidence.version !== 1) throw bad('not log evidence of version 1');
  if (typeof evidence.remembered !== 'string' || typeof evidence.received !== 'string')
    throw bad('it lacks the two notes');
  const key = logKey ?? evidence.log_key;
  if (typeof key !== 'string') throw bad('no log key');
  let verifier: NoteVerifier;
  try {
    verifier = parseVerifierKey(key);
  } catch (cause) {
    throw bad(`the log key: ${(cause as Error).message}`);
  }
  const read = (note: string, which: string) => {
    try {
      return verifyCheckpointNote(note, [verifier]);
    } catch (cause) {
      throw bad(`the ${which} checkpoint is not signed by the log key ${key}: ${(cause as Error).message}`);
    }
  };
  const a = read(evidence.remembered, 'remembered');
  const b = read(evidence.received, 'received');
  if (a.origin !== b.origin) throw bad(`the checkpoints are of two logs (${a.origin}, ${b.origin})`);
  const sizes: [number, number] = [a.size, b.size];
  if (a.size === b.size) {
    if (equalBytes(a.rootHash, b.rootHash)) throw bad('the two checkpoints are the same tree: no contradiction');
    return {
      verdict: 'proven',
      origin: a.origin,
      sizes,
      explanation: `two trees of size ${a.size} with different roots, both signed by the log`,
    };
  }
  const [older, newer] = a.size < b.size ? [a, b] : [b, a];
  if (evidence.proof !== null && evidence.proof !== undefined) {
    const proof = evidence.proof.map((hash, i) => {
      const bytes = typeof hash === 'string' ? fromCanonicalBase64(hash) : undefined;
      if (bytes === undefined || bytes.length !== 32) throw bad(`proof hash ${i + 1} is not the base64 of 32 bytes`);
      return bytes;
    });
    if (verifyConsistency(older.size, newer.size, proof, older.rootHash, newer.rootHash)) {
      throw bad(`its proof does show checkpoint ${older.size} a prefix of checkpoint ${newer.size}: no contradiction`);
    }
  }
  return {
    verdict: 'signed',
    origin: a.origin,
    sizes,
    explanation: `the log signed trees of sizes ${older.size} and ${newer.size} and ${evidence.proof ? 'gave a consistency proof that fails' : 'gave no consistency proof'} (${evidence.kind}); ask the relay for GET /v1/log/consistency?from=${older.size}&to=${newer.size}: no proof can hold if it forked`,
  };
}
