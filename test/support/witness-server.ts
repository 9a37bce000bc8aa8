/**
 * A real witness (@overlap/witness) served on loopback for the tests that need one beside a relay:
 * its state made in `dir` the first time (as `overlap witness init` would), opened and locked, and
 * an HTTP server in front. Started again on the same `dir`, key and port, it is the same witness
 * back with its memory.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@overlap/crypto';
import {
  type RunningWitnessServer,
  startWitnessServer,
  trustedLogs,
  Witness,
  WitnessState,
  witnessVkey,
} from '@overlap/witness';

export interface TestWitness {
  name: string;
  secretKey: Uint8Array;
  vkey: string;
  url: string;
  state: WitnessState;
  server: RunningWitnessServer;
  /** Stops the server, then lets the state go. */
  stop(): Promise<void>;
}

export async function startTestWitness(options: {
  dir: string;
  name: string;
  /** The verifier key of the log it witnesses (the relay's). */
  logKey: string;
  /** Its key (default: a new one). */
  secretKey?: Uint8Array;
  port?: number;
}): Promise<TestWitness> {
  const { dir, name } = options;
  const secretKey = options.secretKey ?? generateSigningKeyPair().secretKey;
  if (!existsSync(join(dir, 'witness.json'))) await WitnessState.init(dir, witnessVkey(name, secretKey));
  const state = await WitnessState.open(dir);
  const witness = new Witness({ name, secretKey, logs: trustedLogs([options.logKey]), state });
  const server = await startWitnessServer(witness, { port: options.port ?? 0 });
  return {
    name,
    secretKey,
    vkey: witness.vkey,
    url: server.url,
    state,
    server,
    async stop() {
      await server.close();
      await state.close();
    },
  };
}
