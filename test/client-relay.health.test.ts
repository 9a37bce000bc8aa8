import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRelayHealth } from '@overlap/client';
import { initRelay, RELAY_VERSION, type RelayServer, startRelayServer } from '@overlap/relay';
import { afterAll, beforeAll, expect, test } from 'vitest';

let relay: RelayServer;
const dir = mkdtempSync(join(tmpdir(), 'overlap-health-'));
beforeAll(async () => {
  await initRelay({ db: join(dir, 'relay.db') });
  relay = await startRelayServer({ db: join(dir, 'relay.db'), port: 0 });
});
afterAll(async () => {
  await relay.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the SDK sees a real relay on loopback as healthy', async () => {
  await expect(checkRelayHealth(relay.url)).resolves.toEqual({ status: 'ok', version: RELAY_VERSION });
});

test('the SDK reports a relay that answers something else as unhealthy', async () => {
  // A path below the relay that is not the relay's root: /healthz there is a 404.
  await expect(checkRelayHealth(`${relay.url}/not-the-relay`)).rejects.toMatchObject({ code: 'RELAY_UNHEALTHY' });
});
