/**
 * The relay's HTTP server on node:http, or node:https when it is given a certificate (chosen over
 * Fastify and Hono by measurement: ~13k small CBOR POSTs/s against ~9k and ~2.7k on the project's
 * machine). It opens the relay's home, rebuilds its state from the log, and serves the routes of
 * routes.ts through http/request-handler.ts: writes through the relay core (relay.ts), answers from
 * the read model (store/read-model.ts). Beside it, the control socket (control-socket.ts) lets a
 * local command take an online backup; the access log (http/access-log.ts) gets a line per request.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { toHex } from '@overlap/crypto';
import { BatchPool } from '@overlap/crypto/node';
import { ed25519NoteSigner, formatVerifierKey } from '@overlap/log';
import { KeyBudgets } from './budgets.js';
import { type ControlSocket, controlSocketPath, listenControlSocket } from './control-socket.js';
import { RelayError } from './errors.js';
import { type GroupCheckRunner, GroupCheckScheduler } from './group-check-scheduler.js';
import { type AccessLog, type AccessLogTarget, openAccessLog } from './http/access-log.js';
import { capConnections } from './http/connection-caps.js';
import { inboxKey, LongPollWaiters, sessionListKey } from './http/long-poll-waiters.js';
import { Metrics } from './http/metrics.js';
import { openApiDocument } from './http/openapi.js';
import { listenOperator, type OperatorListener } from './http/operator-listener.js';
import { createRequestHandler } from './http/request-handler.js';
import type { RelayServices } from './http/route-context.js';
import { BodyBudget, DEFAULT_LIMITS, type RelayLimits } from './limits.js';
import type { RelayCore } from './relay.js';
import { openRelayHome } from './relay-home.js';
import { RelayRuntime } from './relay-runtime.js';
import { copyDatabase } from './store/backup.js';
import { BlobFiles } from './store/blob-files.js';
import type { Db } from './store/database.js';
import { type RelayWitness, WitnessSubmitter } from './witness-submitter.js';

export const RELAY_VERSION = '0.1.0';

/** A certificate chain and its private key, PEM (as files hold them). */
export interface RelayTls {
  /** The server's certificate, then any intermediates. */
  cert: string | Uint8Array;
  key: string | Uint8Array;
}

export interface RelayServerOptions {
  /** The relay's database file (its home is the directory around it). Default `.overlap/relay.db`. */
  db?: string;
  /** Interface to listen on; loopback unless the operator says otherwise. */
  host?: string;
  /** TCP port; 0 picks a free one (tests use that). Default 8787. */
  port?: number;
  /** The base URL clients use (and sign); default `http://HOST:PORT`, or `https://…` with `tls`. */
  publicUrl?: string;
  /** Serve HTTPS with this certificate and key instead of plain HTTP. */
  tls?: RelayTls;
  /** Write one JSON line per request here: a file (appended to, 0600) or a function. */
  accessLog?: AccessLogTarget;
  /**
   * The control socket for online backups: a path, `false` for none. Default `control.sock` in the
   * relay's home (none on Windows).
   */
  controlSocket?: string | false;
  /**
   * Told what the operator should know at start-up about the control socket (none, its path being
   * too long; a home other users may enter). Default: a line on stderr, `overlap relay: warning: …`.
   */
  onWarning?: (message: string) => void;
  limits?: Partial<RelayLimits>;
  /**
   * Worker threads that verify hop proofs and a challenge's inputs (default: one per core but one,
   * at least one); 0 runs them on the thread that answers requests.
   */
  checkWorkers?: number;
  /**
   * The witnesses the relay submits each new checkpoint to (C2SP tlog-witness; spec/log.md §7), in
   * the background; `GET /v1/log/witnessed` serves the newest cosigned one. Default none.
   */
  witnesses?: readonly RelayWitness[];
  /**
   * Where the group checks run instead of the relay's own worker threads (an embedder's pool; tests
   * hold checks to see what happens meanwhile). `checkWorkers` is then unused.
   */
  checkRunner?: GroupCheckRunner;
  /**
   * Serve `GET /metrics` on this address of its own (the operator's; spec/relay-api.md §3.1). The
   * public listener has no `/metrics`. Default: none.
   */
  metrics?: { host?: string; port: number };
  /** The clock, in milliseconds (tests move it). */
  now?: () => number;
}

export interface RelayServer {
  /** Base URL the relay is reachable at, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  readonly origin: string;
  /** The log's verifier key (C2SP vkey). */
  readonly vkey: string;
  readonly relayKeyId: string;
  /** The forum admin's Ed25519 public key, hex (what labs and auditors pin). */
  readonly adminPublicKey: string;
  readonly adminKeyId: string;
  /** The relay's database file, absolute. */
  readonly db: string;
  /** Where the control socket listens, if it does. */
  readonly controlSocket: string | undefined;
  /** The operator's listener, when `metrics` asked for one: `GET <metricsUrl>/metrics`. */
  readonly metricsUrl: string | undefined;
  readonly core: RelayCore;
  /**
   * Resolves (never rejects) if the relay stops on its own because it cannot go on: its state
   * cannot be rebuilt from its database after a failed write. It has closed itself by then; a
   * supervisor reports the error and exits non-zero. Pending for as long as the relay serves.
   */
  readonly failure: Promise<RelayError>;
  close(): Promise<void>;
}

/**
 * Old-generation heap of each check worker, MB: a hop proof of a 65,536-tag chunk in mode `full`
 * holds every position's points at once — it ran out of the crypto package's default of 48 MB
 * (sized for a lab's chunks of a few hundred items) and fit in 256 MB, taking 23 s (2026-12-07).
 */
const CHECK_WORKER_HEAP_MB = 512;

export async function startRelayServer(options: RelayServerOptions = {}): Promise<RelayServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8787;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RelayError('BAD_LISTEN_ADDRESS', `port must be an integer from 0 to 65535, got ${port}`);
  }
  const limits: RelayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const now = options.now ?? Date.now;
  const home = await openRelayHome(options.db);
  // Hop proofs and a challenge's checks run here (started at the first); this thread answers requests.
  // A worker that dies is replaced; a whole chunk checked in mode `full` needs a larger heap than a lab's chunk.
  const pool = new BatchPool({
    workers: options.checkWorkers ?? Math.max(1, availableParallelism() - 1),
    respawn: true,
    workerHeapMb: CHECK_WORKER_HEAP_MB,
  });
  const { db, relayKeys } = home;
  let accessLog: AccessLog | undefined;
  let control: ControlSocket | undefined;
  let server: Omit<RelayServer, 'controlSocket' | 'failure'> | undefined;
  let submitter: WitnessSubmitter | undefined;
  try {
    const blobs = new BlobFiles(home.blobsDir);
    const waiters = new LongPollWaiters();
    const identity = {
      keyId: relayKeys.keyId,
      publicKey: relayKeys.signing.publicKey,
      secretKey: relayKeys.signing.secretKey,
      origin: home.origin,
    };
    const onWarning =
      options.onWarning ?? ((message: string) => void process.stderr.write(`overlap relay: warning: ${message}\n`));
    const leftovers = await blobs.removeTemporaries();
    if (leftovers.length > 0) {
      onWarning(
        `removed ${leftovers.length} temporary blob file(s) left by an interrupted write: ${leftovers.join(', ')}`,
      );
    }
    let reportFailure: (error: RelayError) => void = () => {};
    const failure = new Promise<RelayError>((resolve) => {
      reportFailure = resolve;
    });
    const budgets = new KeyBudgets(limits);
    let current: RelayRuntime | undefined;
    const witnesses = new WitnessSubmitter({
      witnesses: options.witnesses ?? [],
      latest: () => (current as RelayRuntime).reads.latest,
      consistencyProof: (from, to) => (current as RelayRuntime).reads.consistency(from, to).proof,
      onEvent: (event) => {
        if (event.outcome !== 'cosigned') {
          onWarning(
            `witness ${event.witness} did not cosign checkpoint ${event.size}: ${event.outcome}${event.status ? ` (${event.status})` : ''}${event.detail ? `: ${event.detail}` : ''}`,
          );
        }
      },
    });
    submitter = witnesses;
    const checks = new GroupCheckScheduler(options.checkRunner ?? pool, (key, ms) =>
      budgets.chargeCpu(key, ms, Date.now()),
    );
    const runtime = await RelayRuntime.open({
      checks,
      chargeCpu: (key, ms) => budgets.chargeCpu(key, ms, Date.now()),
      db,
      blobs,
      identity,
      signer: ed25519NoteSigner(home.origin, relayKeys.signing.secretKey),
      adminPublicKey: home.adminPublicKey,
      limits,
      now,
      onCommitted: (visible) => {
        waiters.notify([
          ...visible.inbox.map((i) => inboxKey(i.session, i.lab)),
          // Any lab may propose: only the labs a proposal names learn of it.
          ...visible.proposals.flatMap((p) => p.labs.map((lab) => sessionListKey(lab))),
        ]);
        witnesses.notify();
      },
      onEvent: (line) => onWarning(`storage: ${line}`),
      onFatal: (error) => {
        onWarning(`storage: ${error.message}; stopping`);
        // Closed first, then reported: a supervisor that exits on the report loses no open write.
        const stopping = server ? server.close() : Promise.resolve();
        stopping.catch(() => {}).then(() => reportFailure(error));
      },
    });
    current = runtime;
    witnesses.notify(); // the checkpoint it starts with: witnesses may not have it yet
    if (options.accessLog !== undefined) accessLog = await openAccessLog(options.accessLog);
    const log = accessLog;
    server = await listen({
      host,
      port,
      publicUrl: options.publicUrl,
      tls: options.tls,
      runtime,
      waiters,
      limits,
      budgets,
      checks,
      submitter: witnesses,
      metricsListen: options.metrics,
      accessLog,
      db: home.dbPath,
      adminPublicKey: toHex(home.adminPublicKey),
      close: async () => {
        await control?.close();
        await witnesses.close();
        // The checks first: one in flight is refused (503) once its worker is gone; one that finished
        // since the runtime drained has appended its envelope, so the writes are drained again, while
        // the database is still open.
        await pool.close();
        await runtime.close();
        db.close();
        relayKeys.dispose();
        await log?.close();
      },
    });
    // Unix sockets only: on Windows a stopped relay is backed up by the command itself.
    const socketPath =
      options.controlSocket ?? (process.platform === 'win32' ? false : controlSocketPath(dirname(home.dbPath)));
    if (socketPath !== false) control = await listenControlSocket(socketPath, backupHandler(db), { onWarning });
    return { ...server, controlSocket: control?.path, failure };
  } catch (error) {
    if (server) await server.close();
    else {
      await control?.close();
      db.close();
      relayKeys.dispose();
      await accessLog?.close();
      await submitter?.close();
      await pool.close(true);
    }
    throw error;
  }
}

/** The control socket's backups: one at a time, through the connection that holds the lock. */
function backupHandler(db: Db): { backup(to: string): Promise<number> } {
  let running = false;
  return {
    backup: async (to) => {
      if (running) throw new RelayError('BACKUP_FAILED', 'a backup is already running; try again when it ends');
      running = true;
      try {
        return await copyDatabase(db, to);
      } finally {
        running = false;
      }
    },
  };
}

interface ListenOptions {
  host: string;
  port: number;
  publicUrl: string | undefined;
  tls: RelayTls | undefined;
  runtime: RelayRuntime;
  waiters: LongPollWaiters;
  limits: RelayLimits;
  budgets: KeyBudgets;
  checks: GroupCheckScheduler;
  submitter: WitnessSubmitter;
  metricsListen: { host?: string; port: number } | undefined;
  accessLog: AccessLog | undefined;
  db: string;
  adminPublicKey: string;
  close: () => Promise<void>;
}

async function listen(o: ListenOptions): Promise<Omit<RelayServer, 'controlSocket' | 'failure'>> {
  const metrics = new Metrics();
  let closing = false;
  /** The one shutdown: a second close (a signal after the relay stopped itself) waits for it. */
  let closed: Promise<void> | undefined;
  const { runtime } = o;
  // The core and the read model are the runtime's current ones: rebuilt after a failed write.
  const services: RelayServices = {
    get core() {
      return runtime.core;
    },
    get reads() {
      return runtime.reads;
    },
    assertBuilt: () => runtime.assertBuilt(),
    assertWritable: () => runtime.assertWritable(),
    waiters: o.waiters,
    openapi: () => openApiDocument(RELAY_VERSION),
    metricsText: () =>
      metrics.render({
        ...runtime.gauges(),
        budgetRefusals: o.budgets.refused,
        longPolls: o.waiters.parked(),
        checks: { done: o.checks.done, busyMs: o.checks.busyMs, waiting: o.checks.waiting },
        witnesses: {
          cosigned: o.submitter.cosigned,
          failed: o.submitter.failed,
          witnessedSize: o.submitter.witnessed?.size ?? 0,
        },
      }),
    witnessed: () => o.submitter.witnessed,
    health: () => {
      if (closing) throw new RelayError('UNAVAILABLE', 'the relay is shutting down');
      runtime.assertHealthy();
      return { status: 'ok', version: RELAY_VERSION };
    },
  };
  let baseUrl = '';
  const handler = createRequestHandler({
    services,
    bodies: new BodyBudget(o.limits.maxBodyBytesInFlight),
    metrics,
    budgets: o.budgets,
    limits: o.limits,
    publicUrl: () => baseUrl,
    isClosing: () => closing,
    accessLog: o.accessLog,
  });
  const server = o.tls ? httpsServer(o.tls, handler) : createHttpServer(handler);
  capConnections(server, o.limits, o.tls !== undefined);
  // A backstop behind readBody's own timer, for requests whose headers never finish.
  server.requestTimeout = o.limits.requestTimeoutMs + 5_000;
  server.headersTimeout = Math.min(o.limits.requestTimeoutMs, 60_000);

  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) =>
      reject(new RelayError('LISTEN_FAILED', `cannot listen on ${o.host}:${o.port}: ${cause.message}`, { cause })),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : o.port;
  const shownHost = isIP(o.host) === 6 ? `[${o.host}]` : o.host;
  const url = o.publicUrl?.replace(/\/$/, '') ?? `${o.tls ? 'https' : 'http'}://${shownHost}:${boundPort}`;
  baseUrl = url;
  const { identity } = runtime.core;
  let operator: OperatorListener | undefined;
  if (o.metricsListen !== undefined) {
    try {
      operator = await listenOperator(o.metricsListen, services.metricsText);
    } catch (error) {
      await new Promise((resolve) => server.close(resolve));
      throw error;
    }
  }
  return {
    url,
    metricsUrl: operator?.url,
    origin: identity.origin,
    vkey: formatVerifierKey(identity.origin, identity.publicKey),
    relayKeyId: identity.keyId,
    adminPublicKey: o.adminPublicKey,
    adminKeyId: runtime.core.membership.adminKeyId,
    db: o.db,
    get core() {
      return runtime.core;
    },
    close: async () => {
      if (closed) return closed;
      closing = true;
      closed = (async () => {
        o.waiters.wakeAll();
        await runtime.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 2_000).unref();
        });
        await operator?.close();
        await o.close();
      })();
      return closed;
    },
  };
}

/**
 * An HTTPS server with the operator's certificate. A certificate or key that TLS cannot use (not
 * PEM, a key that is not the certificate's) is refused here, at start-up, naming what is wrong.
 */
function httpsServer(tls: RelayTls, handler: Parameters<typeof createHttpServer>[1]): Server {
  try {
    return createHttpsServer({ cert: tlsInput(tls.cert), key: tlsInput(tls.key) }, handler) as unknown as Server;
  } catch (cause) {
    // OpenSSL's reason ("key values mismatch", "no start line") names the problem, never the key.
    throw new RelayError('BAD_TLS', `the TLS certificate and key cannot be used: ${(cause as Error).message}`, {
      cause,
    });
  }
}

function tlsInput(value: string | Uint8Array): string | Buffer {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
