/**
 * The fixed parameters of the synthetic campaign logs (scripts/prompt-campaign.ts): every figure
 * measured on those logs (bench/prompt-templates.ts) is for these values, so they live in one place
 * and are exported.
 */

/** The default seed: every figure printed from these logs is for this seed. */
export const CAMPAIGN_SEED = 20_260_223;
/** Templates of the campaign; each lab sees TEMPLATES_PER_LAB of them, lab k from k × TEMPLATE_SHIFT on. */
export const CAMPAIGN_TEMPLATES = 40;
export const TEMPLATES_PER_LAB = 30;
export const TEMPLATE_SHIFT = 10;
/** Prompts each lab holds of each template it sees. */
export const PROMPTS_PER_TEMPLATE = 25;
/** Everyday prompts of each lab, each from a frame drawn at random. */
export const UNRELATED_PER_LAB = 750;
/** Fillers a template (or frame) holds per slot. */
export const FILLERS_PER_SLOT = 20;
/** A template's length in normalized words (a topic counted as 3, a question as 13, a masked slot as 1). */
export const TEMPLATE_WORDS = Object.freeze({ min: 25, max: 90 });
export const TEMPLATE_SLOTS = Object.freeze({ min: 2, max: 5 });
/**
 * The most that two templates may have in common: the Jaccard similarity of their sets of adjacent
 * word pairs (the template's own words, a slot standing as its kind). Two templates that share a
 * task head or an instruction stay different templates; two that share most of their text are not made.
 */
export const MAX_TEMPLATE_JACCARD = 0.25;
/** The chance that a template has each optional part, and the length of its list. */
export const TEMPLATE_PARTS = Object.freeze({ opener: 0.7, items: 0.6, itemCount: [2, 4], format: 0.7, closing: 0.5 });
/** Per prompt: the chance of each kind of noise, and how many words or spaces it touches. */
export const NOISE = Object.freeze({
  paraphrase: 0.4,
  paraphraseWords: [1, 3],
  reorder: 0.2,
  punctuation: 0.3,
  whitespace: 0.5,
  whitespaceEdits: [1, 4],
  padding: 0.25,
  case: 0.3,
  curlyQuotes: 0.3,
  fencedCode: 0.5,
});
/** The large mode (campaignLog): one lab's log of many prompts of many templates. */
export const LARGE_PROMPTS = 100_000;
export const LARGE_TEMPLATES = 300;
export const LARGE_UNRELATED_SHARE = 0.1;
/** The model named in the Chat Completions shape of a log. */
export const CHAT_MODEL = 'frontier-chat-2026-01';
