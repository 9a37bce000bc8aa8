/**
 * A real session to audit: a relay on loopback with a fresh SQLite file, three enrolled labs that
 * run a whole exchange through the SDK, and the session's transcript fetched with the admin key.
 * Every key is kept, so that the tamper suite can forge what a dishonest relay, admin or lab could
 * sign; a lab's engine can be replaced by a cheating one (the SDK's `createSession` seam), and the
 * proposal given a deadline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin, OverlapClient, RelayClient } from '@overlap/client';
import { generateLabKeys, type LabKeys } from '@overlap/crypto';
import { BatchPool, readKeyFile } from '@overlap/crypto/node';
import type { LabSession, LabSessionOptions } from '@overlap/protocol';
import { homePaths, initRelay, type RelayServer, startRelayServer } from '@overlap/relay';

export interface AuditSession {
  dir: string;
  relay: RelayServer;
  session: string;
  transcript: Uint8Array;
  admin: LabKeys;
  relayKeys: LabKeys;
  labs: { name: string; keys: LabKeys }[];
  /** What each lab learned, for comparison (the labs whose run ended with an outcome). */
  outcomes: Awaited<ReturnType<OverlapClient['run']>>[];
  /**
   * Why a lab's run failed instead (only with a cheating engine in the session: a lab that posts
   * as the relay aborts is refused, SESSION_CLOSED).
   */
  failures: Error[];
  close(): Promise<void>;
}

export const AUDIT_SETS: Record<string, Record<string, string[]>> = {
  north: {
    email: ['all@x.example', 'ns@x.example', 'ne@x.example', 'n1@x.example', 'n2@x.example'],
    ip: ['203.0.113.1', '203.0.113.2', '198.51.100.7'],
  },
  south: {
    email: ['all@x.example', 'ns@x.example', 'se@x.example', 's1@x.example'],
    ip: ['203.0.113.1', '192.0.2.44'],
  },
  east: {
    email: ['all@x.example', 'ne@x.example', 'se@x.example'],
    ip: ['203.0.113.2', '203.0.113.1', '192.0.2.44', '192.0.2.45'],
  },
};

export interface AuditSessionOptions {
  /** A lab's engine by lab name (default: honest). */
  engines?: Partial<Record<string, (options: LabSessionOptions) => LabSession>>;
  /** The proposal's deadline (milliseconds since the epoch). */
  deadline?: number;
}

export async function runAuditSession(policy = 'labs', options: AuditSessionOptions = {}): Promise<AuditSession> {
  const dir = mkdtempSync(join(tmpdir(), 'overlap-audit-'));
  const db = join(dir, 'relay.db');
  const init = await initRelay({ db });
  const relay = await startRelayServer({ db, port: 0 });
  const pool = new BatchPool({ workers: 1 });
  try {
    const admin = await readKeyFile(init.adminKeyFile as string);
    const relayKeys = await readKeyFile(homePaths(db).relayKey);
    const forum = new ForumAdmin(relay.url, admin);
    const labs = Object.keys(AUDIT_SETS).map((name) => ({ name, keys: generateLabKeys() }));
    for (const lab of labs) {
      await forum.enroll({ signingKey: lab.keys.signing.publicKey, sealingKey: lab.keys.sealing.publicKey }, lab.name);
    }
    const clients = await Promise.all(
      labs.map((lab) => {
        const createSession = options.engines?.[lab.name];
        return OverlapClient.connect({
          relayUrl: relay.url,
          keys: lab.keys,
          pool,
          ...(createSession && { createSession }),
        });
      }),
    );
    const [proposer] = clients as [OverlapClient];
    const session = await proposer.createSession({
      labs: labs.map((lab) => lab.name),
      kinds: ['email', 'ip'],
      policy,
      maxItemsPerKind: 100,
      ...(options.deadline !== undefined && { deadline: options.deadline }),
    });
    const settled = await Promise.allSettled(
      clients.map((c, i) => c.run(session, AUDIT_SETS[labs[i]?.name as string] ?? {})),
    );
    const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    if (failures.length > 0 && options.engines === undefined) throw failures[0];
    const outcomes = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const transcript = await new RelayClient({
      url: relay.url,
      signer: { keyId: admin.keyId, secretKey: admin.signing.secretKey },
    }).transcript(session);
    return {
      dir,
      relay,
      session,
      transcript,
      admin,
      relayKeys,
      labs,
      outcomes,
      failures,
      async close() {
        await relay.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await pool.close();
  }
}
