/**
 * A lab's prompts collapsed into templates before anything is sent (spec/indicators.md §2,
 * `prompt_template`, "Templates"): a campaign's 100,000 prompts are a few hundred templates, and
 * each template is sent as the b bands of one prompt, its first (the representative), so the lab's
 * set is b × its templates, whatever the number of prompts.
 *
 * Greedy, in input order: a prompt joins the earlier template whose representative shares the most
 * bands with it, if that is at least `minBands` (ties: the earlier template); otherwise it starts a
 * new one. An exact repeat of a normalized text joins its template without a signature. Candidates
 * are found through the representatives' band values, so adding a prompt costs its signature and b
 * lookups, not a comparison with every template. Memory: one signature and b band values per
 * template, and each distinct normalized text once (for the exact repeats).
 */
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

export class TemplateCollector {
  readonly templates: PromptTemplate[] = [];
  readonly #parameters: MinHashParameters;
  readonly #byText = new Map<string, number>();
  readonly #byBand = new Map<string, number[]>();

  constructor(parameters: MinHashParameters = PROMPT_TEMPLATE_PARAMETERS) {
    this.#parameters = parameters;
  }

  /** Adds one prompt (its normalized text) and answers the index of the template it joined or started. */
  add(normalized: string, line: number, id?: string): number {
    const known = this.#byText.get(normalized);
    if (known !== undefined) {
      (this.templates[known] as PromptTemplate).prompts++;
      return known;
    }
    const signature = promptSignature(normalized, this.#parameters);
    const bands = signatureBands(signature, this.#parameters);
    const joined = this.#closest(signature, bands);
    if (joined !== undefined) {
      (this.templates[joined] as PromptTemplate).prompts++;
      this.#byText.set(normalized, joined);
      return joined;
    }
    const index = this.templates.length;
    this.templates.push({ text: normalized, line, ...(id !== undefined && { id }), prompts: 1, signature, bands });
    this.#byText.set(normalized, index);
    for (const band of bands) {
      const holders = this.#byBand.get(band);
      if (holders) holders.push(index);
      else this.#byBand.set(band, [index]);
    }
    return index;
  }

  #closest(signature: Uint32Array, bands: string[]): number | undefined {
    const candidates = new Set<number>();
    for (const band of bands) for (const index of this.#byBand.get(band) ?? []) candidates.add(index);
    let best: number | undefined;
    let bestShared = this.#parameters.minBands - 1;
    for (const index of [...candidates].sort((x, y) => x - y)) {
      const shared = sharedBands(signature, (this.templates[index] as PromptTemplate).signature, this.#parameters);
      if (shared > bestShared) {
        best = index;
        bestShared = shared;
      }
    }
    return best;
  }
}
