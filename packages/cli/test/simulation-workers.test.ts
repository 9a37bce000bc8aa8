/** How many worker threads `overlap simulate` gives each lab process: none unless a lab gets two cores. */
import { describe, expect, test } from 'vitest';
import { workersPerLab } from '../src/simulation.js';

describe('workersPerLab', () => {
  test.each([
    [2, 1, 0],
    [2, 2, 0],
    [2, 3, 0],
    [2, 4, 2],
    [3, 8, 2],
    [2, 16, 8],
    [64, 2, 0],
  ])('%i labs on %i cores: %i workers each', (labs, cores, workers) => {
    expect(workersPerLab(labs, cores)).toBe(workers);
  });
});
