/**
 * The templates of the synthetic campaign and the everyday frames beside it
 * (scripts/prompt-campaign.ts), assembled from the phrase tables: a campaign template is a task (a
 * head and a body of its family), optionally an opener, a list of 2–4 instructions, an output format
 * and a closing, with `[role]` and `[domain]` fixed once; it is kept only with 2–5 slots, 25–90
 * normalized words and a Jaccard similarity of its word pairs of at most MAX_TEMPLATE_JACCARD with
 * every earlier template, so that templates different in the ground truth are different in their
 * text too. Each slot gets FILLERS_PER_SLOT fillers of its own.
 */
import { CODE_SNIPPETS, HOSTS, PASSAGES, PATH_WORDS, QUESTIONS, TOPICS } from './prompt-campaign-fillers.js';
import { ORDINARY_FRAMES, ORDINARY_POOLS } from './prompt-campaign-ordinary.js';
import {
  CAMPAIGN_SEED,
  CAMPAIGN_TEMPLATES,
  FILLERS_PER_SLOT,
  MAX_TEMPLATE_JACCARD,
  TEMPLATE_PARTS,
  TEMPLATE_SLOTS,
  TEMPLATE_WORDS,
} from './prompt-campaign-parameters.js';
import {
  CLOSINGS,
  DOMAINS,
  FAMILIES,
  type Family,
  FORMATS,
  ITEMS,
  OPENERS,
  ROLES,
  TASK_BODIES,
  TASK_HEADS,
} from './prompt-campaign-phrases.js';
import { Random, streamSeed } from './prompt-campaign-random.js';

export interface Slot {
  kind: string;
  fillers: readonly string[];
}

/** A template (or an everyday frame): its sentences, list items and closing sentences, slots written `{i}`. */
export interface CampaignTemplate {
  name: string;
  family: Family | 'other';
  lead: readonly string[];
  items: readonly string[];
  tail: readonly string[];
  slots: readonly Slot[];
}

interface Draft {
  family: Family;
  lead: string[];
  items: string[];
  tail: string[];
}

/** The campaign's templates 0 … count − 1; the first n are the same whatever the count. */
export function campaignTemplates(
  seed: number = CAMPAIGN_SEED,
  count: number = CAMPAIGN_TEMPLATES,
): CampaignTemplate[] {
  const random = new Random(streamSeed(seed, 'templates'));
  const accepted: Set<string>[] = [];
  const templates: CampaignTemplate[] = [];
  for (let k = 0; k < count; k++) {
    const family = FAMILIES[k % FAMILIES.length] as Family;
    const draft = acceptableDraft(random, family, accepted, k);
    accepted.push(wordPairs(draft));
    templates.push(withSlots(`${family}-${k}`, family, draft, random));
  }
  return templates;
}

function acceptableDraft(random: Random, family: Family, accepted: readonly Set<string>[], k: number): Draft {
  for (let attempt = 0; attempt < 100_000; attempt++) {
    const draft = draftTemplate(random, family);
    const { slots, words } = measureDraft(draft);
    if (slots < TEMPLATE_SLOTS.min || slots > TEMPLATE_SLOTS.max) continue;
    if (words < TEMPLATE_WORDS.min || words > TEMPLATE_WORDS.max) continue;
    const pairs = wordPairs(draft);
    if (accepted.every((other) => jaccard(pairs, other) <= MAX_TEMPLATE_JACCARD)) return draft;
  }
  throw new Error(`no template ${k} found within Jaccard ${MAX_TEMPLATE_JACCARD} of the others`);
}

function draftTemplate(random: Random, family: Family): Draft {
  const draft: Draft = { family, lead: [], items: [], tail: [] };
  const role = random.pick(ROLES);
  const domain = random.pick(DOMAINS);
  const use = (text: string): string => withConstant(withConstant(text, '[role]', role), '[domain]', domain);
  if (random.chance(TEMPLATE_PARTS.opener)) {
    const o = random.int(0, OPENERS.length - 1);
    draft.lead.push(use(OPENERS[o] as string));
  }
  const h = random.int(0, TASK_HEADS[family].length - 1);
  const b = random.int(0, TASK_BODIES[family].length - 1);
  const head = use(TASK_HEADS[family][h] as string);
  draft.lead.push(`${head} ${use(TASK_BODIES[family][b] as string)}`);
  if (random.chance(TEMPLATE_PARTS.items)) {
    const [min, max] = TEMPLATE_PARTS.itemCount as [number, number];
    const chosen = random.sample([...ITEMS.keys()], random.int(min, max));
    for (const i of chosen) draft.items.push(use(ITEMS[i] as string));
  }
  if (random.chance(TEMPLATE_PARTS.format)) {
    const f = random.int(0, FORMATS.length - 1);
    draft.tail.push(use(FORMATS[f] as string));
  }
  if (random.chance(TEMPLATE_PARTS.closing)) {
    const c = random.int(0, CLOSINGS.length - 1);
    draft.tail.push(use(CLOSINGS[c] as string));
  }
  return draft;
}

/** `[role]` or `[domain]` replaced, with "a" before it made "an" where the value starts with a vowel. */
function withConstant(text: string, marker: string, value: string): string {
  const article = /^[aeiou]/i.test(value) ? 'an' : 'a';
  return text.replaceAll(` a ${marker}`, ` ${article} ${value}`).replaceAll(marker, value);
}

const SLOT_MARKER = /\{([a-z]+)\}/g;
const WORD_OR_SLOT = /\{[a-z]+\}|[\p{L}\p{N}]+/gu;
const ESTIMATED_WORDS: Readonly<Record<string, number>> = { topic: 3, question: 13 };

function measureDraft(draft: Draft): { slots: number; words: number } {
  let slots = 0;
  let words = 0;
  for (const unit of [...draft.lead, ...draft.items, ...draft.tail]) {
    for (const [, kind] of unit.matchAll(SLOT_MARKER)) {
      slots++;
      words += ESTIMATED_WORDS[kind as string] ?? 1;
    }
    words += wordCount(unit.replace(SLOT_MARKER, ' '));
  }
  return { slots, words };
}

/** The template's pairs of adjacent words, lowercase, a slot standing as its `{kind}`: what two templates share. */
function wordPairs(draft: Draft): Set<string> {
  const words = [...draft.lead, ...draft.items, ...draft.tail].join(' ').toLowerCase().match(WORD_OR_SLOT) ?? [];
  const pairs = new Set<string>();
  for (let i = 0; i + 1 < words.length; i++) pairs.add(`${words[i]} ${words[i + 1]}`);
  return pairs;
}

function jaccard(x: ReadonlySet<string>, y: ReadonlySet<string>): number {
  let shared = 0;
  for (const pair of x) if (y.has(pair)) shared++;
  return shared / (x.size + y.size - shared);
}

function wordCount(text: string): number {
  return text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
}

/** Slots numbered in reading order (`{topic}` → `{0}`), each with its own fillers. */
function withSlots(
  name: string,
  family: Family | 'other',
  units: { lead: readonly string[]; items: readonly string[]; tail: readonly string[] },
  random: Random,
): CampaignTemplate {
  const slots: Slot[] = [];
  const index = (unit: string) =>
    unit.replace(SLOT_MARKER, (_, kind: string) => {
      slots.push({ kind, fillers: slotFillers(random, kind) });
      return `{${slots.length - 1}}`;
    });
  const lead = units.lead.map(index);
  const items = units.items.map(index);
  const tail = units.tail.map(index);
  return { name, family, lead, items, tail, slots };
}

function slotFillers(random: Random, kind: string): string[] {
  const n = FILLERS_PER_SLOT;
  const repeat = (make: () => string) => Array.from({ length: n }, make);
  const hex = (digits: number) => randomHex(random, digits);
  switch (kind) {
    case 'topic':
      return random.sample(TOPICS, n);
    case 'question':
      return random.sample(QUESTIONS, n);
    case 'quote':
      return random.sample(PASSAGES, n);
    case 'code':
      return random.sample(CODE_SNIPPETS, n);
    case 'num':
      return repeat(() => String(random.int(2, 20)));
    case 'url':
      return repeat(() => `https://${random.pick(HOSTS)}/${random.pick(PATH_WORDS)}/${random.int(1, 99_999)}`);
    case 'email':
      return repeat(() => `batch${random.int(1, 9999)}@${random.pick(HOSTS)}`);
    case 'uuid':
      return repeat(() => [hex(8), hex(4), `4${hex(3)}`, `a${hex(3)}`, hex(12)].join('-'));
    default: {
      const pool = ORDINARY_POOLS[kind];
      if (pool === undefined) throw new Error(`no fillers for the slot {${kind}}`);
      return random.sample(pool, n);
    }
  }
}

function randomHex(random: Random, digits: number): string {
  let text = '';
  for (let i = 0; i < digits; i++) text += random.int(0, 15).toString(16);
  return text;
}

/** The everyday frames as templates, `other-0` … (their slots' fillers drawn from their own stream). */
export function ordinaryTemplates(seed: number = CAMPAIGN_SEED): CampaignTemplate[] {
  const random = new Random(streamSeed(seed, 'frames'));
  return ORDINARY_FRAMES.map((frame, i) =>
    withSlots(`other-${i}`, 'other', { lead: [frame], items: [], tail: [] }, random),
  );
}
