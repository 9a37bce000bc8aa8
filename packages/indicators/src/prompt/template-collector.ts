/**
 * A lab's prompts collapsed into templates before anything is sent (spec/indicators.md §2,
 * `prompt_template`, "Templates"): a campaign's 100,000 prompts are a few hundred templates, and
 * each template is sent as the b bands of one prompt, its first (the representative), so the lab's
 * set is b × its templates, whatever the number of prompts.
 *
 * Greedy, in input order: a prompt joins the earlier template holding the member (one of its first
 * `members` distinct prompts) that shares the most bands with it, if that is at least the
 * collapse's `minBands` (ties: the earlier template); otherwise it starts a new one. An exact repeat
 * of a normalized text joins its template without a signature. Candidates are found through the
 * members' band values, so adding a prompt costs its signature and b lookups, not a comparison with
 * every template. Memory: up to `members` signatures and their band values per template, and a
 * 16-byte digest per distinct normalized text (for the exact repeats).
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import {
  type MinHashParameters,
  PROMPT_TEMPLATE_PARAMETERS,
  promptSignature,
  sharedBands,
  signatureBands,
} from './minhash.js';

export interface PromptTemplate {
  /** The representative's normalized text (the kind's canonical value). */
  text: string;
  /** The representative's line in the lab's input. */
  line: number;
  /** The representative's own id (the lab's prompt id), if it had one. */
  id?: string;
  /** How many of the lab's prompts it stands for. */
  prompts: number;
  signature: Uint32Array;
  /** Its b band values: what the lab sends for it. */
  bands: string[];
}

/** How a lab collapses its prompts (local choices, not rules: the relay and other labs never see them). */
export interface CollapseOptions {
  /** Bands a prompt must share with a template's member to join it: stricter than the match's t. */
  minBands: number;
  /** How many of a template's first distinct prompts a new prompt is compared with. */
  members: number;
}

/**
 * 16 of 64 bands (J ≈ 0.5) and 4 members, measured by `pnpm bench prompt-templates` on 100,000
 * prompts: joining at the match's own t = 10 merged different templates that share vocabulary (a
 * fifth of the prompts ended in mixed templates, whose other prompts then go unsent), and comparing
 * with the first prompt alone split one template in six. A split costs 64 more values; a merge
 * loses a template: these keep merges near none and splits few.
 */
export const COLLAPSE_OPTIONS: Readonly<CollapseOptions> = Object.freeze({ minBands: 16, members: 4 });

export class TemplateCollector {
  readonly templates: PromptTemplate[] = [];
  readonly #parameters: MinHashParameters;
  readonly #collapse: CollapseOptions;
  /** The first 16 bytes of SHA-256 of each distinct normalized text seen, in hex: its template (exact repeats cost no signature). */
  readonly #byText = new Map<string, number>();
  /** Per template, the signatures of its first distinct prompts (the representative first). */
  readonly #members: Uint32Array[][] = [];
  /** Each band value of a member: the templates holding it. */
  readonly #byBand = new Map<string, number[]>();
  /** Scratch: per template, how many of the prompt being added's bands its members hold (all 0 between calls). */
  #hits = new Int32Array(64);

  constructor(
    parameters: MinHashParameters = PROMPT_TEMPLATE_PARAMETERS,
    collapse: CollapseOptions = COLLAPSE_OPTIONS,
  ) {
    if (!Number.isInteger(collapse.minBands) || collapse.minBands < 1 || collapse.minBands > parameters.bands)
      throw new RangeError(
        `collapse minBands must be an integer from 1 to ${parameters.bands}, not ${collapse.minBands}`,
      );
    if (!Number.isInteger(collapse.members) || collapse.members < 1)
      throw new RangeError(`collapse members must be a positive integer, not ${collapse.members}`);
    this.#parameters = parameters;
    this.#collapse = collapse;
  }

  /** Adds one prompt (its normalized text) and answers the index of the template it joined or started. */
  add(normalized: string, line: number, id?: string): number {
    const digest = textDigest(normalized);
    const known = this.#byText.get(digest);
    if (known !== undefined) {
      (this.templates[known] as PromptTemplate).prompts++;
      return known;
    }
    const signature = promptSignature(normalized, this.#parameters);
    const bands = signatureBands(signature, this.#parameters);
    let index = this.#closest(signature, bands);
    if (index !== undefined) {
      (this.templates[index] as PromptTemplate).prompts++;
    } else {
      index = this.templates.length;
      this.templates.push({ text: normalized, line, ...(id !== undefined && { id }), prompts: 1, signature, bands });
      this.#members.push([]);
    }
    this.#byText.set(digest, index);
    const members = this.#members[index] as Uint32Array[];
    if (members.length < this.#collapse.members) {
      members.push(signature);
      for (const band of bands) {
        const holders = this.#byBand.get(band);
        if (!holders) this.#byBand.set(band, [index]);
        else if (holders[holders.length - 1] !== index) holders.push(index);
      }
    }
    return index;
  }

  /** The template with the member sharing the most bands, at least the collapse's minBands (ties: the earlier). */
  #closest(signature: Uint32Array, bands: string[]): number | undefined {
    // A template's hits (the prompt's bands some member of it holds) bound what any one member
    // shares, so only templates with minBands hits are compared member by member.
    if (this.#hits.length < this.templates.length) {
      const grown = new Int32Array(Math.max(this.templates.length, this.#hits.length * 2));
      this.#hits = grown;
    }
    const hits = this.#hits;
    const touched: number[] = [];
    for (const band of bands) {
      for (const index of this.#byBand.get(band) ?? []) {
        if (hits[index] === 0) touched.push(index);
        hits[index] = (hits[index] as number) + 1;
      }
    }
    const { minBands } = this.#collapse;
    let best: number | undefined;
    let bestShared = minBands - 1;
    touched.sort((x, y) => x - y);
    for (const index of touched) {
      if ((hits[index] as number) > bestShared) {
        for (const member of this.#members[index] as Uint32Array[]) {
          const shared = sharedBands(signature, member, this.#parameters);
          if (shared > bestShared) {
            best = index;
            bestShared = shared;
          }
        }
      }
      hits[index] = 0;
    }
    return best;
  }
}

function textDigest(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)).subarray(0, 16));
}
