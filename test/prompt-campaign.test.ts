/**
 * The synthetic campaign generator (scripts/prompt-campaign.ts) that bench/prompt-templates.ts
 * measures the `prompt_template` kind on: its figures mean something only if the logs are the same
 * on every run, the labs share exactly the templates planned for them (the ground truth), every
 * prompt is a valid input of the kind, and ids identify prompts.
 */
import { canonicalize } from '@overlap/indicators';
import { describe, expect, test } from 'vitest';
import {
  CAMPAIGN_TEMPLATES,
  type CampaignPrompt,
  campaignLog,
  campaignLogs,
  campaignTemplates,
  chatLines,
  indicatorLines,
  labTemplateIndices,
  TEMPLATE_SLOTS,
} from '../scripts/prompt-campaign.js';

const small = { promptsPerTemplate: 3, unrelatedPerLab: 40 };
const campaignOf = (prompts: readonly CampaignPrompt[]) =>
  new Set(prompts.map((p) => p.template).filter((t) => t !== null && !t.startsWith('other-')));

describe('prompt campaign generator', () => {
  test('the same seed gives the same logs, another seed other logs', () => {
    expect(campaignLogs({ ...small, seed: 7 })).toEqual(campaignLogs({ ...small, seed: 7 }));
    expect(campaignLog({ prompts: 500, seed: 7 })).toEqual(campaignLog({ prompts: 500, seed: 7 }));
    const [x] = campaignLogs({ ...small, seed: 7 });
    const [y] = campaignLogs({ ...small, seed: 8 });
    expect(x?.prompts.map((p) => p.text)).not.toEqual(y?.prompts.map((p) => p.text));
  });

  test('the labs hold prompts of exactly the templates planned for them', () => {
    const names = campaignTemplates().map((t) => t.name);
    const planned = (lab: number) => new Set(labTemplateIndices(lab).map((i) => names[i]));
    const logs = campaignLogs({ labs: 3 });
    for (const [lab, log] of logs.entries()) {
      expect(campaignOf(log.prompts)).toEqual(planned(lab));
      expect(new Set(log.campaignTemplates)).toEqual(planned(lab));
    }
    // lab-a sees 0–29 and lab-b 10–39: they share 10–29; lab-c wraps round to 20–39 and 0–9.
    const [a, b, c] = logs.map((log) => campaignOf(log.prompts));
    expect(new Set([...(a ?? [])].filter((t) => b?.has(t)))).toEqual(new Set(names.slice(10, 30)));
    expect(c).toEqual(new Set([...names.slice(20, 40), ...names.slice(0, 10)]));
    expect(names).toHaveLength(CAMPAIGN_TEMPLATES);
  });

  test('every template has 2–5 slots, and the first templates do not depend on how many are made', () => {
    const many = campaignTemplates(undefined, 60);
    expect(many.slice(0, CAMPAIGN_TEMPLATES)).toEqual(campaignTemplates());
    for (const template of many) {
      expect(template.slots.length).toBeGreaterThanOrEqual(TEMPLATE_SLOTS.min);
      expect(template.slots.length).toBeLessThanOrEqual(TEMPLATE_SLOTS.max);
    }
  });

  test('every prompt canonicalizes as a prompt_template', () => {
    const prompts = [...campaignLogs().flatMap((log) => log.prompts), ...campaignLog({ prompts: 3000 }).prompts];
    for (const prompt of prompts) expect(() => canonicalize('prompt_template', prompt.text), prompt.id).not.toThrow();
  });

  test('ids are unique within and across labs', () => {
    const ids = campaignLogs({ labs: 3 }).flatMap((log) => log.prompts.map((p) => p.id));
    expect(new Set(ids).size).toBe(ids.length);
    const large = campaignLog({ prompts: 3000 }).prompts.map((p) => p.id);
    expect(new Set(large).size).toBe(large.length);
  });

  test('a log is written as indicator lines or as Chat Completions requests, one line a prompt', () => {
    const [log] = campaignLogs(small);
    const prompts = log?.prompts ?? [];
    const indicators = indicatorLines(prompts)
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(indicators).toEqual(prompts.map((p) => ({ kind: 'prompt_template', value: p.text, id: p.id })));
    const chats = chatLines(prompts)
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(chats).toHaveLength(prompts.length);
    for (const [i, chat] of chats.entries()) {
      expect(chat.id).toBe(prompts[i]?.id);
      expect(chat.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user']);
      expect(chat.messages[1].content).toBe(prompts[i]?.text);
    }
  });
});
