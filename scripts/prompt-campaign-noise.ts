/**
 * One prompt of a template (scripts/prompt-campaign.ts): its slots filled from the template's own
 * fillers, and the variation a campaign's scripts add so that its prompts look less alike: synonyms
 * for 1–3 words, two sentences or two list items swapped, the list renumbered ("1." / "1)" /
 * "Step 1:" / "(a)" / bullets / inline), punctuation, white space and case. The rates are NOISE.
 *
 * The template's own words are varied before the fillers go in, so the noise never cuts a quoted
 * passage or a code block in two (which would unmask it): a log's own damage is not modelled.
 */
import { NOISE } from './prompt-campaign-parameters.js';
import { SYNONYMS } from './prompt-campaign-phrases.js';
import type { Random } from './prompt-campaign-random.js';
import type { CampaignTemplate, Slot } from './prompt-campaign-templates.js';

/** A prompt's sentences before the list, its list items and its sentences after it. */
interface Units {
  lead: string[];
  items: string[];
  tail: string[];
}

const letter = (i: number) => String.fromCharCode(97 + (i % 26));
/** How a script numbers a list; the empty one writes the items as running sentences. */
const NUMBERINGS: readonly ((i: number) => string)[] = [
  (i) => `${i + 1}. `,
  (i) => `${i + 1}) `,
  (i) => `Step ${i + 1}: `,
  (i) => `(${letter(i)}) `,
  (i) => `${letter(i)}) `,
  () => '- ',
  () => '* ',
  () => '• ',
  () => '',
];
const SENTENCE_BREAKS = [' ', ' ', '\n', '\n\n'];
const SPACE_NOISE = ['  ', '   ', '\t', '\n', ' \n'];

export function renderPrompt(template: CampaignTemplate, random: Random): string {
  const units: Units = { lead: [...template.lead], items: [...template.items], tail: [...template.tail] };
  if (random.chance(NOISE.paraphrase)) paraphrase(units, random);
  if (random.chance(NOISE.reorder)) reorder(units, random);
  if (random.chance(NOISE.punctuation)) punctuate(units, random);
  if (random.chance(NOISE.whitespace)) respace(units, random);
  const fill = fillerRenderer(template.slots, random);
  const filled: Units = { lead: units.lead.map(fill), items: units.items.map(fill), tail: units.tail.map(fill) };
  let text = layout(filled, random);
  if (random.chance(NOISE.case)) text = recase(text, random);
  if (random.chance(NOISE.padding)) text = `${random.pick(['', ' ', '\n'])}${text}${random.pick([' ', '\n', '  '])}`;
  return text;
}

function allUnits(units: Units): { list: string[]; index: number }[] {
  return [units.lead, units.items, units.tail].flatMap((list) => list.map((_, index) => ({ list, index })));
}

/** 1–3 of the template's words that the synonym table knows replaced by a synonym (case kept). */
function paraphrase(units: Units, random: Random): void {
  const candidates: { list: string[]; index: number; start: number; word: string }[] = [];
  for (const { list, index } of allUnits(units)) {
    for (const match of (list[index] as string).matchAll(/[A-Za-z]+/g)) {
      if (SYNONYMS[match[0].toLowerCase()] !== undefined)
        candidates.push({ list, index, start: match.index, word: match[0] });
    }
  }
  const [min, max] = NOISE.paraphraseWords as [number, number];
  const chosen = random.sample(candidates, random.int(min, max)).sort((x, y) => y.start - x.start);
  for (const { list, index, start, word } of chosen) {
    let synonym = random.pick(SYNONYMS[word.toLowerCase()] as readonly string[]);
    if (word[0] !== word[0]?.toLowerCase()) synonym = synonym[0]?.toUpperCase() + synonym.slice(1);
    const unit = list[index] as string;
    list[index] = unit.slice(0, start) + synonym + unit.slice(start + word.length);
  }
}

/** Two list items swapped, or two sentences (before or after the list). */
function reorder(units: Units, random: Random): void {
  const sentences = [units.lead, units.tail].flatMap((list) => list.map((_, index) => ({ list, index })));
  if (units.items.length >= 2 && (sentences.length < 2 || random.chance(0.5))) {
    const [i, j] = random.sample([...units.items.keys()], 2) as [number, number];
    [units.items[i], units.items[j]] = [units.items[j] as string, units.items[i] as string];
  } else if (sentences.length >= 2) {
    const [x, y] = random.sample(sentences, 2) as [(typeof sentences)[0], (typeof sentences)[0]];
    const text = x.list[x.index] as string;
    x.list[x.index] = y.list[y.index] as string;
    y.list[y.index] = text;
  }
}

const PUNCTUATIONS: readonly ((unit: string) => string)[] = [
  (unit) => unit.replace(/[.]$/, ''),
  (unit) => unit.replace(/[.]$/, '!'),
  (unit) => unit.replace(/[.]$/, '!!'),
  (unit) => unit.replace(/[.]$/, '...'),
  (unit) => unit.replaceAll(',', ''),
  (unit) => unit.replaceAll(', ', ' , ').replaceAll(': ', ' : '),
  (unit) => unit.replaceAll('step by step', 'step-by-step').replaceAll(';', ','),
];

/** One or two kinds of punctuation changed throughout. */
function punctuate(units: Units, random: Random): void {
  for (const change of random.sample(PUNCTUATIONS, random.int(1, 2))) {
    for (const { list, index } of allUnits(units)) list[index] = change(list[index] as string);
  }
}

/** 1–4 spaces of the template's words made double, a tab or a line break. */
function respace(units: Units, random: Random): void {
  const [min, max] = NOISE.whitespaceEdits as [number, number];
  const all = allUnits(units);
  for (let edit = random.int(min, max); edit > 0; edit--) {
    const { list, index } = random.pick(all);
    const unit = list[index] as string;
    const spaces = [...unit.matchAll(/ /g)].map((m) => m.index);
    if (spaces.length === 0) continue;
    const at = random.pick(spaces);
    list[index] = unit.slice(0, at) + random.pick(SPACE_NOISE) + unit.slice(at + 1);
  }
}

/** Fills `{i}` with one of slot i's fillers, quoted or fenced in the prompt's own style. */
function fillerRenderer(slots: readonly Slot[], random: Random): (unit: string) => string {
  const [open, close] = random.chance(NOISE.curlyQuotes) ? ['“', '”'] : ['"', '"'];
  const fenced = random.chance(NOISE.fencedCode);
  return (unit) =>
    unit.replace(/\{(\d+)\}/g, (_, i: string) => {
      const slot = slots[Number(i)] as Slot;
      const filler = random.pick(slot.fillers);
      if (slot.kind === 'quote') return `${open}${filler}${close}`;
      if (slot.kind === 'code')
        return fenced || filler.includes('\n') ? `\n\`\`\`\n${filler}\n\`\`\`\n` : `\`${filler}\``;
      return filler;
    });
}

/** The sentences, then the list in the prompt's numbering, then the closing sentences. */
function layout(units: Units, random: Random): string {
  const gap = random.pick(SENTENCE_BREAKS);
  const parts = [...units.lead];
  if (units.items.length > 0) {
    const numbering = random.pick(NUMBERINGS);
    const inline = numbering(0) === '';
    parts.push(units.items.map((item, i) => `${numbering(i)}${item}`).join(inline ? ' ' : '\n'));
  }
  parts.push(...units.tail);
  return parts.join(gap);
}

const CASES: readonly ((text: string, random: Random) => string)[] = [
  (text) => text.toLowerCase(),
  (text) => text.toUpperCase(),
  (text) => text.replace(/\b[a-z]/g, (c) => c.toUpperCase()),
  (text, random) => text.replace(/[A-Za-z]+/g, (word) => (random.chance(0.2) ? word.toUpperCase() : word)),
];

function recase(text: string, random: Random): string {
  return random.pick(CASES)(text, random);
}
