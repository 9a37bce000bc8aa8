/**
 * expected.json: what Overlap must report for the example data. Each lab's file is read the way
 * `overlap normalize FILE` reads it (format from the extension, no --kind, no --region), and the
 * overlaps are plain set arithmetic on the canonical values: the plaintext truth that the private
 * protocol's results are compared against. Prompts (`prompt_template`) are not matched by their
 * value but as templates (templates.ts): their section says which templates each lab finds, not a
 * set arithmetic of texts, and no band count.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import {
  emptySummary,
  formatFromPath,
  type ImportFormat,
  INDICATOR_KIND_NAMES,
  isErrorRecord,
  normalizeRecords,
  readRecords,
} from '@overlap/indicators';
import { LAB_FILES } from './files.js';
import { LABS, type LabName, REGIONS, type Region, regionLabs } from './plan.js';
import { collapse, type PromptsRead, type TemplateAnswer } from './templates.js';

const PROMPT_KIND = 'prompt_template';

export interface KindCounts {
  /** Distinct canonical values of this kind in the lab's file. */
  distinct: number;
  /** Of those, how many at least one other lab holds: what the `labs` and `count` policies reveal. */
  held_by_another_lab: number;
  /** Of those, how many all three labs hold: what `threshold:3` reveals. */
  held_by_all_three: number;
}

export interface LabExpected {
  file: string;
  format: ImportFormat;
  records: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  rejected_by: Record<string, number>;
  kinds: Record<string, KindCounts>;
}

export interface Expected {
  about: string;
  labs: Record<LabName, LabExpected>;
  /**
   * Per kind, the number of distinct values held by exactly each combination of labs (`lab-a+lab-b`:
   * those two only). Every kind but `prompt_template`, whose values are matched as templates.
   */
  overlaps: Record<string, Record<string, number>>;
  /** What each lab finds of its prompt templates (templates.ts): its results of kind `prompt_template`. */
  prompt_templates: { about: string; labs: TemplateAnswer };
}

/** Per lab, per kind, the set of canonical values. */
export type CanonicalSets = Record<LabName, Map<string, Set<string>>>;

export const regionKey = (region: Region): string => regionLabs(region).join('+');

async function readLab(path: string) {
  const format = formatFromPath(path);
  const summary = emptySummary();
  const sets = new Map<string, Set<string>>();
  const prompts: PromptsRead[LabName] = [];
  for await (const record of normalizeRecords(readRecords(format, createReadStream(path)), {}, summary)) {
    if (isErrorRecord(record)) continue;
    if (record.kind === PROMPT_KIND) {
      prompts.push({ line: record.line, ...(record.id !== undefined && { id: record.id }), text: record.value });
      continue;
    }
    const set = sets.get(record.kind) ?? new Set<string>();
    sets.set(record.kind, set.add(record.value));
  }
  return { format, summary, sets, prompts };
}

/** The labs holding a value, as a region name (`abc`, `ab`, …). */
function regionOf(sets: CanonicalSets, kind: string, value: string): Region {
  return LABS.filter((lab) => sets[lab].get(kind)?.has(value))
    .map((lab) => lab.slice(-1))
    .join('') as Region;
}

export async function computeExpected(
  dir: string,
): Promise<{ expected: Expected; sets: CanonicalSets; prompts: PromptsRead }> {
  const labs = {} as Record<LabName, LabExpected>;
  const sets = {} as CanonicalSets;
  const prompts = {} as PromptsRead;
  for (const lab of LABS) {
    const { format, summary, sets: own, prompts: read } = await readLab(join(dir, LAB_FILES[lab]));
    sets[lab] = own;
    prompts[lab] = read;
    labs[lab] = {
      file: LAB_FILES[lab],
      format,
      records: summary.records,
      accepted: summary.accepted,
      duplicates: summary.duplicates,
      rejected: summary.rejected,
      rejected_by: Object.fromEntries(
        Object.entries(summary.rejectedBy).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      ),
      kinds: {},
    };
  }
  const kinds = INDICATOR_KIND_NAMES.filter((kind) => LABS.some((lab) => sets[lab].has(kind)));
  const overlaps: Expected['overlaps'] = {};
  for (const kind of kinds) {
    const counts = Object.fromEntries(REGIONS.map((region) => [region, 0])) as Record<Region, number>;
    const union = new Set(LABS.flatMap((lab) => [...(sets[lab].get(kind) ?? [])]));
    for (const value of union) counts[regionOf(sets, kind, value)]++;
    overlaps[kind] = Object.fromEntries(REGIONS.map((region) => [regionKey(region), counts[region]]));
    for (const lab of LABS) {
      const own = sets[lab].get(kind);
      if (!own) continue;
      let shared = 0;
      let all = 0;
      for (const value of own) {
        const region = regionOf(sets, kind, value);
        if (region.length > 1) shared++;
        if (region.length === 3) all++;
      }
      labs[lab].kinds[kind] = { distinct: own.size, held_by_another_lab: shared, held_by_all_three: all };
    }
  }
  const about =
    'Synthetic example data (examples/data/README.md). Generated by scripts/examples-data.ts, which reads each file as `overlap normalize FILE` does and counts overlaps of canonical values in plaintext.';
  const prompt_templates = {
    about:
      "Per lab: its prompt records, the templates they collapse into, and the templates another lab holds (the lab's results of kind prompt_template under `labs`), each by its first prompt's id and line, the prompts it stands for and the labs holding it. Checked against the prompts' ground truth, and the same for word shingles of 1 or 2 and t from 8 to 14 bands.",
    labs: collapse(prompts).answer,
  };
  return { expected: { about, labs, overlaps, prompt_templates }, sets, prompts };
}
