/**
 * The wall time of each phase of a lab's run and the peak resident memory in each, for
 * `overlap session run --json` (the benchmarks read them). `OVERLAP_MEMORY_TRACE=FILE` appends every
 * sample as a JSON line (phase, resident, heap, buffers: sizes only, nothing of the data).
 */
import { appendFileSync } from 'node:fs';
import type { LabProgress } from '@overlap/client';

/**
 * Wall time of each phase of a lab's run (reading the input, hashing, uploading, the exchange
 * until results — the proof round within it —, writing them) and the peak resident memory seen in each, sampled every 100 ms.
 */
export function phaseClock() {
  const started = performance.now();
  const at: Partial<Record<LabProgress['phase'], number>> = {};
  const peakMb: Record<string, number> = {};
  let current = 'reading';
  // OVERLAP_MEMORY_TRACE=FILE appends every sample (phase, resident, heap, buffers) as a JSON line.
  const trace = process.env.OVERLAP_MEMORY_TRACE;
  const sample = () => {
    const mb = Math.round(process.memoryUsage.rss() / 1048576);
    if (mb > (peakMb[current] ?? 0)) peakMb[current] = mb;
    if (trace) {
      const m = process.memoryUsage();
      const line = { t: Math.round(performance.now() - started), pid: process.pid, phase: current, rss: mb };
      const more = { heap: Math.round(m.heapUsed / 1048576), buffers: Math.round(m.arrayBuffers / 1048576) };
      appendFileSync(trace, `${JSON.stringify({ ...line, ...more })}\n`);
    }
  };
  const timer = setInterval(sample, 100);
  timer.unref();
  const phaseName: Partial<Record<LabProgress['phase'], string>> = {
    hashing: 'hashing_and_blinding',
    uploading: 'uploading',
    blinding: 'exchange',
    waiting: 'exchange',
    proving: 'proving',
    done: 'writing',
  };
  return {
    mark(phase: LabProgress['phase']) {
      sample();
      current = phaseName[phase] ?? current;
      at[phase] ??= performance.now();
    },
    done(): { phases_ms: Record<string, number>; peak_rss_mb_by_phase: Record<string, number> } {
      sample();
      clearInterval(timer);
      const end = at.done ?? performance.now();
      const uploading = at.uploading ?? end;
      const waiting = at.waiting ?? end;
      return {
        phases_ms: {
          hashing_and_blinding: Math.round(uploading - (at.hashing ?? started)),
          uploading: Math.round(waiting - uploading),
          exchange: Math.round(end - waiting),
          // Part of the exchange: from the relay's proof request to the results.
          proving: Math.round(end - (at.proving ?? end)),
          total: Math.round(end - started),
        },
        peak_rss_mb_by_phase: peakMb,
      };
    },
  };
}
