/**
 * What `overlap session run` shows while a lab works: on a terminal, one line rewritten in place
 * with a bar, the rate and an ETA; in a log (no terminal), one plain line when a phase starts and
 * then a line every few seconds with the counts so far, so that a log read later says how far the
 * lab got and how fast.
 *
 * An ETA is shown only once it means something: at least 10% of the phase done and 2 s into it,
 * timed from the phase's own start (not the process's: an upload that follows a long hashing phase
 * is not estimated from the hashing time).
 *
 * Nothing here prints a value, a key or a tag: only phases and counts.
 */
import type { LabProgress } from '@overlap/client';

export interface ProgressOptions {
  /** True when `write` goes to a terminal: one line rewritten in place. */
  tty: boolean;
  write: (text: string) => void;
  /** Milliseconds, monotonic (default `performance.now`). */
  now?: () => number;
  /** In a log: the least time between two lines of one phase with new counts (default 5 s). */
  heartbeatMs?: number;
  /** In a log: the least time between two lines of one phase whose counts did not change (default 30 s). */
  quietHeartbeatMs?: number;
  /** On a terminal: how often the line is redrawn for the clock, ms (default 250); 0 for no timer. */
  redrawMs?: number;
}

/** One phase as shown: what it is, its counts so far and, for a phase with an end, its total. */
export interface PhaseView {
  phase: string;
  label: string;
  done?: number;
  total?: number;
  /** What `done` counts, for the rate ("chunks", "tags"). */
  unit?: string;
  /** More counts, shown after the main ones ("3 tasks"). */
  detail?: string;
  startedMs: number;
}

const ETA_MIN_FRACTION = 0.1;
const ETA_MIN_ELAPSED_MS = 2000;
const BAR_WIDTH = 24;

/** Seconds left at the current rate, or undefined while an estimate would mean nothing. */
export function etaSeconds(done: number, total: number, elapsedMs: number): number | undefined {
  if (!(total > 0) || done <= 0 || done >= total) return undefined;
  if (done / total < ETA_MIN_FRACTION || elapsedMs < ETA_MIN_ELAPSED_MS) return undefined;
  return Math.ceil(((elapsedMs / done) * (total - done)) / 1000);
}

/** A duration for people: `45 s`, `3 min 20 s`, `1 h 5 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 === 0 ? '' : ` ${s % 60} s`}`;
  const minutes = Math.floor((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${minutes === 0 ? '' : ` ${minutes} min`}`;
}

/**
 * 12,345 for 12345. Not toLocaleString: its first call loads the ICU number data (~20 ms of a
 * lab's start-up, before its first progress line).
 */
const count = (n: number) => groupThousands(Math.round(n));

export function groupThousands(n: number): string {
  const digits = String(Math.abs(n));
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}

function rate(done: number, elapsedMs: number, unit: string): string | undefined {
  if (elapsedMs < 1000 || done === 0) return undefined;
  const perSecond = done / (elapsedMs / 1000);
  return `${perSecond >= 10 ? count(Math.round(perSecond)) : perSecond.toFixed(1)} ${unit}/s`;
}

/** What the hashing phase does: hash and blind, or only blind what was hashed ahead (or some of it). */
function hashingLabel(event: Extract<LabProgress, { phase: 'hashing' }>): string {
  const { items, hashedAhead = 0, distinct } = event;
  if (hashedAhead === 0) return `hashing and blinding ${count(items)} indicators`;
  if (hashedAhead === distinct) return `blinding ${count(items)} indicators (hashed ahead)`;
  return `hashing and blinding ${count(items)} indicators (${count(hashedAhead)} hashed ahead)`;
}

/** The view of a progress event; `previous` is the phase shown so far (its start carries over). */
export function viewOf(event: LabProgress, previous: PhaseView | undefined, nowMs: number): PhaseView {
  const startedMs = previous?.phase === event.phase ? previous.startedMs : nowMs;
  switch (event.phase) {
    case 'hashing':
      return { phase: event.phase, label: hashingLabel(event), startedMs };
    case 'uploading':
      return {
        phase: event.phase,
        label: 'uploading chunks',
        done: event.sent,
        total: event.total,
        unit: 'chunks',
        startedMs,
      };
    case 'blinding':
      return {
        phase: event.phase,
        label: "blinding other labs' sets",
        done: event.tags,
        unit: 'tags',
        detail: `${count(event.tasks)} tasks`,
        startedMs,
      };
    case 'waiting':
      return { phase: event.phase, label: 'waiting for the other labs', startedMs };
    case 'proving':
      return {
        phase: event.phase,
        label:
          event.proofs === 0
            ? 'every hop is in: coin revealed, waiting for the challenge'
            : `proving: ${count(event.proofs)} hop proofs sent, waiting for the relay to verify them`,
        startedMs,
      };
    case 'done':
      return { phase: event.phase, label: event.aborted ? 'aborted' : 'results received', startedMs };
    default:
      // A phase this display does not know yet (a newer SDK): its name, never nothing.
      return {
        phase: String((event as { phase: unknown }).phase),
        label: String((event as { phase: unknown }).phase),
        startedMs,
      };
  }
}

const unitOf = (view: PhaseView) => (view.unit === undefined ? '' : ` ${view.unit}`);

/** The counts, rate and ETA of a view, as text: `5/16 chunks, 2.1 chunks/s, ETA 5 s`. */
export function describeCounts(view: PhaseView, nowMs: number): string {
  const elapsed = nowMs - view.startedMs;
  const parts: string[] = [];
  if (view.done !== undefined && view.total !== undefined) {
    const percent = view.total > 0 ? Math.floor((view.done / view.total) * 100) : 100;
    parts.push(`${count(view.done)}/${count(view.total)}${unitOf(view)} (${percent}%)`);
  } else if (view.done !== undefined) parts.push(`${count(view.done)}${unitOf(view)}`);
  if (view.detail !== undefined) parts.push(view.detail);
  const perSecond = view.done !== undefined && view.unit ? rate(view.done, elapsed, view.unit) : undefined;
  if (perSecond) parts.push(perSecond);
  const eta =
    view.done !== undefined && view.total !== undefined ? etaSeconds(view.done, view.total, elapsed) : undefined;
  if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
  else if (elapsed >= 1000) parts.push(formatDuration(elapsed / 1000));
  return parts.join(', ');
}

/** The terminal line: the label, a bar when the phase has a total, then the counts. */
export function barLine(view: PhaseView, nowMs: number): string {
  const counts = describeCounts(view, nowMs);
  if (view.done === undefined || view.total === undefined) return counts ? `${view.label} (${counts})` : view.label;
  const fraction = view.total > 0 ? Math.min(1, view.done / view.total) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  return `${view.label} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${counts}`;
}

/** A log line: the label and the counts so far. */
export function plainLine(view: PhaseView, nowMs: number): string {
  const counts = describeCounts(view, nowMs);
  return counts ? `${view.label}: ${counts}` : view.label;
}

export class ProgressDisplay {
  readonly #options: ProgressOptions;
  readonly #now: () => number;
  #view: PhaseView | undefined;
  /** In a log: when the last line was written, and the counts it showed. */
  #lastLineMs = 0;
  #lastCounts: number | undefined;
  /** When the view shown was last updated. */
  #lastUpdateMs = 0;
  /** On a terminal: whether the progress line is on screen (not yet ended by a newline). */
  #lineShown = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: ProgressOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    const tick = options.tty ? (options.redrawMs ?? 250) : Math.min(options.heartbeatMs ?? 5000, 1000);
    if (tick > 0) {
      this.#timer = setInterval(() => this.tick(), tick);
      this.#timer.unref();
    }
  }

  update(event: LabProgress): void {
    const now = this.#now();
    const view = viewOf(event, this.#view, now);
    // A new phase, or a new step of one (proving: revealed, then proofs sent), gets a line of its own.
    const previous = this.#view;
    const newStep = previous?.label !== view.label;
    // In a log, a step that ends gets its last counts written (not only its first), as of when they came.
    if (!this.#options.tty && newStep && previous !== undefined && previous.done !== this.#lastCounts) {
      this.#plain(this.#lastUpdateMs);
    }
    this.#view = view;
    this.#lastUpdateMs = now;
    if (this.#options.tty) this.#draw(now);
    else if (newStep) this.#plain(now);
    else this.tick();
  }

  /** A message on a line of its own ("relay unreachable …"), the progress line drawn again below it. */
  note(text: string): void {
    if (this.#options.tty && this.#lineShown) this.#options.write('\r\x1b[2K');
    this.#options.write(`overlap: ${text}\n`);
    this.#lineShown = false;
    if (this.#options.tty && this.#view && this.#view.phase !== 'done') this.#draw(this.#now());
  }

  /** Redraws the line (terminal) or writes the heartbeat line when it is due (log). */
  tick(): void {
    const view = this.#view;
    if (view === undefined || view.phase === 'done') return;
    const now = this.#now();
    if (this.#options.tty) {
      this.#draw(now);
      return;
    }
    const since = now - this.#lastLineMs;
    const changed = view.done !== this.#lastCounts;
    if (changed ? since >= (this.#options.heartbeatMs ?? 5000) : since >= (this.#options.quietHeartbeatMs ?? 30_000))
      this.#plain(now);
  }

  /** Ends the progress line and stops the clock. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#options.tty && this.#lineShown) this.#options.write('\n');
    this.#lineShown = false;
  }

  #plain(now: number): void {
    const view = this.#view as PhaseView;
    this.#options.write(`overlap: ${plainLine(view, now)}\n`);
    this.#lastLineMs = now;
    this.#lastCounts = view.done;
  }

  #draw(now: number): void {
    const view = this.#view as PhaseView;
    this.#options.write(`\r\x1b[2K${barLine(view, now)}`);
    this.#lineShown = true;
    if (view.phase === 'done') {
      this.#options.write('\n');
      this.#lineShown = false;
    }
  }
}
