/**
 * The forum relay's settings (`overlap relay …`): flag, `$OVERLAP_RELAY_*`, `[relay_server]` in
 * overlap.toml, default. Apart from settings.ts's table because only the relay commands take them,
 * and apart from commands/relay.ts so that `overlap config check` can list them without loading the
 * relay (and its SQLite driver, which a lab's install leaves out).
 */
import type { Setting } from './settings.js';

/** The relay's settings: flag, `$OVERLAP_RELAY_*`, `[relay_server]` in overlap.toml, default. */
export const RELAY_SERVER_SETTINGS = {
  db: {
    flags: '--db <file>',
    description: "the relay database; its key, blobs and control socket live beside it, in the relay's home",
    env: 'OVERLAP_RELAY_DB',
    config: 'relay_server.db',
    fallback: '.overlap/relay.db', // @overlap/relay's DEFAULT_DB_PATH (a test keeps them equal)
    path: true,
  },
  host: {
    flags: '--host <host>',
    description: 'interface to listen on',
    env: 'OVERLAP_RELAY_HOST',
    config: 'relay_server.host',
    fallback: '127.0.0.1',
  },
  port: {
    flags: '--port <n>',
    description: 'TCP port (0: any free port)',
    env: 'OVERLAP_RELAY_PORT',
    config: 'relay_server.port',
    fallback: '8787',
  },
  publicUrl: {
    flags: '--public-url <url>',
    description:
      'the base URL labs use and sign (RFC 9421 @target-uri); set it behind a reverse proxy (default: http[s]://HOST:PORT)',
    env: 'OVERLAP_RELAY_PUBLIC_URL',
    config: 'relay_server.public_url',
  },
  tlsCert: {
    flags: '--tls-cert <file>',
    description: "serve HTTPS with this PEM certificate chain (the server's first)",
    env: 'OVERLAP_RELAY_TLS_CERT',
    config: 'relay_server.tls_cert',
    path: true,
  },
  tlsKey: {
    flags: '--tls-key <file>',
    description:
      "the certificate's PEM private key; refused if other users may read it or anyone but its owner write it",
    env: 'OVERLAP_RELAY_TLS_KEY',
    config: 'relay_server.tls_key',
    path: true,
  },
  witnesses: {
    flags: '--witnesses <list>',
    description:
      "the witnesses each new checkpoint is sent to, as 'URL VKEY' pairs separated by commas (VKEY: what overlap witness vkey prints)",
    env: 'OVERLAP_RELAY_WITNESSES',
    config: 'relay_server.witnesses',
  },
  metricsPort: {
    flags: '--metrics-port <n>',
    description:
      "serve GET /metrics (Prometheus) on this port of the operator's, apart from the public API (0: any free port; default: none)",
    env: 'OVERLAP_RELAY_METRICS_PORT',
    config: 'relay_server.metrics_port',
  },
  metricsHost: {
    flags: '--metrics-host <host>',
    description: 'the interface of the metrics port',
    env: 'OVERLAP_RELAY_METRICS_HOST',
    config: 'relay_server.metrics_host',
    fallback: '127.0.0.1',
  },
  accessLog: {
    flags: '--access-log <file>',
    description: "one JSON line per request: a file (appended to, 0600), or '-' for stdout",
    env: 'OVERLAP_RELAY_ACCESS_LOG',
    config: 'relay_server.access_log',
  },
} as const satisfies Record<string, Setting>;
