/**
 * What a run of attempts met, said in one phrase when it differs from attempt to attempt:
 * `3 answered HTTP 503 UNAVAILABLE, 5 got no answer (connection refused (ECONNREFUSED))`. The
 * transport's error when its retries run out says it, and so does `overlap session run` when a
 * relay has not served it since it started.
 */
export interface AttemptsMet {
  /** The short reason (`HTTP 503 UNAVAILABLE`, `connection refused (ECONNREFUSED)`). */
  reason: string;
  /** How many attempts met it. */
  n: number;
  /** Whether it is an HTTP answer, not a network failure. */
  answered: boolean;
  /** The relay's own message with the answer, if any. */
  relayMessage?: string;
}

/** Each reason counted, in the order given. */
export function attemptsMet(met: Iterable<AttemptsMet>): string {
  return [...met]
    .map(({ reason, n, answered, relayMessage }) =>
      answered
        ? `${n} answered ${reason}${relayMessage === undefined ? '' : ` (${relayMessage})`}`
        : `${n} got no answer (${reason})`,
    )
    .join(', ');
}
