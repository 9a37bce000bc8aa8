/**
 * `overlap simulate --witnesses N`: N witnesses of the simulated relay's log (packages/witness),
 * each with a fresh key and state in WORK/witness-i, served on loopback in the simulation's own
 * process, as the forum or the labs would run them. The relay submits each checkpoint to them and
 * every lab requires all N to have cosigned before it acts on its results (its witness policy), so
 * the simulation measures what the witnesses cost a session.
 */
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

export interface SimulationWitnesses {
  /** What the relay is started with. */
  relay: { url: string; vkey: string }[];
  /** What each lab's `session run` is given: its policy, all of them. */
  labArgs: string[];
  close(): Promise<void>;
}

export async function startSimulationWitnesses(
  work: string,
  count: number,
  logVkey: string,
): Promise<SimulationWitnesses> {
  const running: { vkey: string; state: WitnessState; server: RunningWitnessServer }[] = [];
  const close = async () => {
    for (const w of running) {
      await w.server.close().catch(() => {});
      await w.state.close().catch(() => {});
    }
  };
  try {
    for (let i = 1; i <= count; i++) {
      const name = `witness-${i}.simulate.example`;
      const { secretKey } = generateSigningKeyPair();
      const dir = join(work, `witness-${i}`);
      await WitnessState.init(dir, witnessVkey(name, secretKey));
      const state = await WitnessState.open(dir);
      const witness = new Witness({ name, secretKey, logs: trustedLogs([logVkey]), state });
      const server = await startWitnessServer(witness, { host: '127.0.0.1', port: 0 });
      running.push({ vkey: witness.vkey, state, server });
    }
  } catch (error) {
    await close();
    throw error;
  }
  const vkeys = running.map((w) => w.vkey);
  return {
    relay: running.map((w) => ({ url: w.server.url, vkey: w.vkey })),
    labArgs: count === 0 ? [] : ['--witness-keys', vkeys.join(','), '--witness-quorum', String(count)],
    close,
  };
}
