/**
 * Ctrl-C (SIGINT) in a long command: the first one aborts the command's signal, so that the work
 * under way stops at its next step and the command says what it kept and how to go on; if the work
 * has not stopped after a grace period, or on a second Ctrl-C, the command gives up waiting and
 * exits at once (130), after saying the same. Giving up is safe where this is used: a lab's state
 * is written ahead of every send, each file atomically (@overlap/client's LabStateStore).
 */

export interface InterruptOptions {
  /** Said, then the process exits 130, when the work did not stop within `graceMs` or on a second Ctrl-C. */
  onGiveUp: () => void;
  /** How long the work may take to stop after the first Ctrl-C (default 5 s). */
  graceMs?: number;
  /** The process whose SIGINT is caught (a test passes its own emitter). */
  target?: Pick<NodeJS.Process, 'on' | 'off' | 'exit'>;
}

export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  constructor() {
    super('interrupted (Ctrl-C)');
  }
}

export class InterruptWatch {
  readonly #controller = new AbortController();
  readonly #options: InterruptOptions;
  readonly #target: Pick<NodeJS.Process, 'on' | 'off' | 'exit'>;
  readonly #onSignal = () => this.#interrupt();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: InterruptOptions) {
    this.#options = options;
    this.#target = options.target ?? process;
    this.#target.on('SIGINT', this.#onSignal);
  }

  /** Aborted (with an InterruptedError) on the first Ctrl-C. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get interrupted(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Stops watching: Ctrl-C is the default again (it ends the process). */
  dispose(): void {
    this.#target.off('SIGINT', this.#onSignal);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #interrupt(): void {
    if (this.interrupted) {
      this.#giveUp();
      return;
    }
    this.#controller.abort(new InterruptedError());
    this.#timer = setTimeout(() => this.#giveUp(), this.#options.graceMs ?? 5000);
  }

  #giveUp(): void {
    this.dispose();
    this.#options.onGiveUp();
    this.#target.exit(130);
  }
}
