/**
 * The witness's settings (`overlap witness …`): flag, `$OVERLAP_WITNESS_*`, `[witness]` in
 * overlap.toml, default. Apart from settings.ts's table because only the witness commands take
 * them, and apart from commands/witness.ts so that `overlap config check` can list them.
 */
import type { Setting } from './settings.js';

export const WITNESS_SETTINGS = {
  name: {
    flags: '--name <name>',
    description: "the witness's name: the key name of its cosignatures (e.g. witness.lab-a.example)",
    env: 'OVERLAP_WITNESS_NAME',
    config: 'witness.name',
  },
  key: {
    flags: '--key <file>',
    description: "the witness's key file from overlap keygen (passphrase: $OVERLAP_KEY_PASSPHRASE, or a prompt)",
    env: 'OVERLAP_WITNESS_KEY',
    config: 'witness.key',
    path: true,
  },
  stateDir: {
    flags: '--state-dir <dir>',
    description: 'where the witness remembers the last checkpoint it cosigned for each log; never lose it',
    env: 'OVERLAP_WITNESS_STATE_DIR',
    config: 'witness.state_dir',
    fallback: '.overlap/witness',
    path: true,
  },
  host: {
    flags: '--host <host>',
    description: 'interface to listen on',
    env: 'OVERLAP_WITNESS_HOST',
    config: 'witness.host',
    fallback: '127.0.0.1',
  },
  port: {
    flags: '--port <n>',
    description: 'TCP port (0: any free port)',
    env: 'OVERLAP_WITNESS_PORT',
    config: 'witness.port',
    fallback: '7380',
  },
  logKeys: {
    flags: '--log-keys <vkeys>',
    description: "the verifier keys of the logs it witnesses (the relay's log key), separated by commas",
    env: 'OVERLAP_WITNESS_LOG_KEYS',
    config: 'witness.log_keys',
  },
} as const satisfies Record<string, Setting>;
