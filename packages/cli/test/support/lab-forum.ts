/**
 * A forum for the session command tests: a relay of its own (initialized in a temporary folder,
 * served in this process on loopback, or as a real `overlap relay serve` process that a test can
 * kill and start again on the same port), labs enrolled by the forum admin, each with a key file
 * and a folder of its own, and sessions proposed through the SDK.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForumAdmin, OverlapClient } from '@overlap/client';
import { generateLabKeys, type LabKeys } from '@overlap/crypto';
import { readKeyFile, writeKeyFile } from '@overlap/crypto/node';
import { initRelay, type RelayServer, startRelayServer } from '@overlap/relay';
import { type RunningCli, startCli } from './cli-process.js';

export interface ForumLab {
  name: string;
  /** The lab's own folder: its key file, its inputs, its state directory. */
  dir: string;
  keyFile: string;
  keys: LabKeys;
}

export interface Forum {
  dir: string;
  db: string;
  url: string;
  vkey: string;
  labs: Record<string, ForumLab>;
  /** `--relay URL --log-key VKEY --key FILE` for a lab. */
  labArgs(name: string): string[];
  /**
   * `overlap session run` of lab `name` in `session`, as the session tests run it: its lab
   * arguments, `--input INPUT` (default suspects.txt, in the lab's folder) of e-mails on one worker,
   * then `extra`.
   */
  runArgs(name: string, session: string, input?: string, ...extra: string[]): string[];
  createSession(proposer: string, terms: { labs: string[]; kinds: string[]; policy?: string }): Promise<string>;
  /** With `relayProcess`: kills the relay process (SIGKILL), and starts it again on the same database and port. */
  killRelay(): Promise<void>;
  restartRelay(): Promise<void>;
  close(): Promise<void>;
}

/** A free TCP port on loopback (for a relay process that must come back on the same port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `overlap relay serve` as a process, once it says it listens. */
export async function serveRelayProcess(db: string, port: number): Promise<RunningCli> {
  const relay = startCli(['relay', 'serve', '--db', db, '--port', String(port)]);
  await relay.waitFor(/relay listening on/);
  return relay;
}

export async function startForum(names: string[], options: { relayProcess?: boolean } = {}): Promise<Forum> {
  const dir = mkdtempSync(join(tmpdir(), 'overlap-forum-'));
  const init = await initRelay({ db: join(dir, 'relay', 'relay.db') });
  let inProcess: RelayServer | undefined;
  let relayProcess: RunningCli | undefined;
  let url: string;
  let vkey: string;
  const port = options.relayProcess ? await freePort() : 0;
  if (options.relayProcess) {
    relayProcess = await serveRelayProcess(init.db, port);
    url = `http://127.0.0.1:${port}`;
    vkey = /log key\s+(\S+)/.exec(relayProcess.stdout())?.[1] as string;
  } else {
    inProcess = await startRelayServer({ db: init.db, port: 0 });
    url = inProcess.url;
    vkey = inProcess.vkey;
  }
  const admin = new ForumAdmin(url, await readKeyFile(init.adminKeyFile as string));
  const labs: Record<string, ForumLab> = {};
  for (const name of names) {
    const labDir = join(dir, name);
    mkdirSync(labDir, { recursive: true });
    const keys = generateLabKeys();
    const keyFile = join(labDir, 'lab.key');
    await writeKeyFile(keyFile, keys);
    await admin.enroll({ signingKey: keys.signing.publicKey, sealingKey: keys.sealing.publicKey }, name);
    labs[name] = { name, dir: labDir, keyFile, keys };
  }
  const stopRelayProcess = async (signal: NodeJS.Signals) => {
    if (relayProcess !== undefined && relayProcess.child.exitCode === null && relayProcess.child.signalCode === null) {
      relayProcess.child.kill(signal);
      await relayProcess.exited;
    }
  };
  const labArgs = (name: string) => ['--relay', url, '--log-key', vkey, '--key', (labs[name] as ForumLab).keyFile];
  return {
    dir,
    db: init.db,
    url,
    vkey,
    labs,
    labArgs,
    runArgs: (name, session, input = 'suspects.txt', ...extra) => [
      'session',
      'run',
      ...labArgs(name),
      '--session',
      session,
      '--input',
      input,
      '--kind',
      'email',
      '--workers',
      '1',
      ...extra,
    ],
    async createSession(proposer, terms) {
      const client = await OverlapClient.connect({
        relayUrl: url,
        keys: (labs[proposer] as ForumLab).keys,
        logKey: vkey,
      });
      return client.createSession({
        labs: terms.labs,
        kinds: terms.kinds,
        policy: terms.policy ?? 'labs',
        maxItemsPerKind: 100_000,
        chunkSize: 1024,
      });
    },
    killRelay: () => stopRelayProcess('SIGKILL'),
    async restartRelay() {
      relayProcess = await serveRelayProcess(init.db, port);
    },
    async close() {
      await inProcess?.close();
      await stopRelayProcess('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
