import { checkRelayHealth } from '@overlap/client';
import { RELAY_VERSION, type RelayServer, startRelayServer } from '@overlap/relay';
import { afterAll, beforeAll, expect, test } from 'vitest';

let relay: RelayServer;
beforeAll(async () => {
  relay = await startRelayServer({ port: 0 });
});
afterAll(async () => {
  await relay.close();
});

test('the SDK sees a real relay on loopback as healthy', async () => {
  await expect(checkRelayHealth(relay.url)).resolves.toEqual({ status: 'ok', version: RELAY_VERSION });
});

test('the SDK reports a relay that answers something else as unhealthy', async () => {
  // A path below the relay that is not the relay's root: /healthz there is a 404.
  await expect(checkRelayHealth(`${relay.url}/not-the-relay`)).rejects.toMatchObject({ code: 'RELAY_UNHEALTHY' });
});
