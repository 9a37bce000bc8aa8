/**
 * Prompt templates through the agent (session-task.ts, session-templates.ts), with real processes
 * over HTTP on loopback: an `overlap relay serve` process and two labs' `overlap agent` processes,
 * each configured only by its `overlap.toml`, each lab's prompts a JSON lines file (a campaign of
 * 3 templates × 4 variants per lab, 2 templates held by both in variants of their own:
 * support/prompt-campaign.ts, whose generator says which template each prompt came from).
 *
 * - A session of kind prompt_template proposed by lab-a: each agent delivers exactly one result per
 *   shared template (none for the template only it holds), standing for its 4 prompts, its value
 *   the lab's own normalized text of the template's first prompt; no band value in any delivered
 *   file or log line; the session's templates file and state gone after delivery.
 * - Resume: lab-a's agent is killed (SIGKILL) while the session waits for lab-b (stopped), its
 *   templates file on disk (0600 in 0700); lab-a's prompts file is then replaced by other prompts,
 *   so that only the saved templates can gather the results; the restarted agent resumes (reading
 *   no source) and delivers the results of the templates it joined with.
 * - Abort: a session aborted by lab-b while lab-a's agent runs it erases lab-a's templates file.
 * - A session aborted while the agent was down before its first progress: the restarted agent
 *   erases the templates file and the partial state (its key, coin and values) the dead run left.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizePromptText, PROMPT_TEMPLATE_PARAMETERS } from '@overlap/indicators';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { until } from '../../../test/support/processes.js';
import {
  AgentProcess,
  enrollLab,
  killAll,
  type LogEvent,
  type RelayProcess,
  run,
  startRelay,
} from './support/overlap-processes.js';
import { HELD, type Lab, type Prompt, promptsOf, SHARED, VARIANTS, writePrompts } from './support/prompt-campaign.js';

const LABS = ['lab-a', 'lab-b'] as const;
const dir = mkdtempSync(join(tmpdir(), 'overlap-agent-prompts-'));
const prompts: Record<Lab, Prompt[]> = { 'lab-a': promptsOf('lab-a'), 'lab-b': promptsOf('lab-b') };
const agents = new Map<Lab, AgentProcess>();
let relay: RelayProcess;
/** A band value as the exchange sends it (`jj:` and 16 hex digits): never in a delivered file. */
const BAND = /\d{2,}:[0-9a-f]{16}/;

const home = (lab: Lab) => join(dir, lab);
const templatesFile = (lab: Lab, session: string) => join(home(lab), 'state', 'sessions', `${session}.templates.json`);
const stateOf = (lab: Lab, session: string) => join(home(lab), 'state', 'sessions', `${session}.state`);
const other = (lab: Lab): Lab => (lab === 'lab-a' ? 'lab-b' : 'lab-a');

/** Both labs' overlap.toml: the same, every path relative to the lab's folder. */
function config(): string {
  return `${[
    `relay = "${relay.url}"`,
    'key = "lab.key"',
    'state_dir = "state"',
    '[trust]',
    `log_key = "${relay.vkey}"`,
    `admin_key = "${relay.adminPublicKey}"`,
    '[agent]',
    'listen = "off"',
    'workers = 1',
    'log_level = "debug"',
    '[[agent.accept]]',
    'from = ["lab-a", "lab-b"]',
    'kinds = ["prompt_template"]',
    'max_items_per_kind = 10000',
    '[agent.sources.prompt_template]',
    'file = "prompts.jsonl"',
    'format = "jsonl"',
    '[agent.results]',
    'dir = "results"',
    'formats = ["jsonl", "csv", "stix"]',
  ].join('\n')}\n`;
}

function startAgent(lab: Lab): AgentProcess {
  const agent = new AgentProcess(lab, join(home(lab), 'overlap.toml'));
  agents.set(lab, agent);
  return agent;
}

/** lab-a proposes a session of prompt templates with lab-b (`overlap session create`): its id. */
async function propose(): Promise<string> {
  const out = await run(
    'session',
    'create',
    '--config',
    join(home('lab-a'), 'overlap.toml'),
    '--labs',
    'lab-a,lab-b',
    '--kinds',
    'prompt_template',
    '--max-items',
    '10000',
  );
  return out.trim();
}

/**
 * Waits until `lab`'s agent has joined `session` and recorded its progress (what a resumed run starts
 * from: `progress.json`, written once the join is recorded, before the hashing is logged), its
 * templates saved.
 */
async function joinedWithTemplates(lab: Lab, session: string): Promise<void> {
  await agents.get(lab)?.logged((e) => e.event === 'session_hashing' && e.session === session);
  await until(
    `${lab} to save its templates and progress`,
    () => existsSync(templatesFile(lab, session)) && existsSync(join(stateOf(lab, session), 'progress.json')),
    120_000,
  );
}

/** lab-b (its agent stopped) aborts `session` with `overlap session abort`. */
async function abortAsLabB(session: string): Promise<void> {
  await run(
    'session',
    'abort',
    '--config',
    join(home('lab-b'), 'overlap.toml'),
    '--session',
    session,
    '--reason',
    'the test aborts it',
  );
}

const delivered = (session: string) => (e: LogEvent) => e.event === 'session_delivered' && e.session === session;

interface TemplateRow {
  kind: string;
  value: string;
  labs: string[];
  line?: number;
  id?: string;
  template: { bands: number; prompts: number; matched: Record<string, number>; jaccard: Record<string, number> };
}

/** Every file the lab's agent delivered for `session`, by name. */
function deliveredFiles(lab: Lab, session: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const suffix of ['.results.jsonl', '.results.csv', '.results.stix.json', '.json']) {
    out[suffix] = readFileSync(join(home(lab), 'results', `${session}${suffix}`), 'utf8');
  }
  return out;
}

/**
 * Checks what `lab`'s agent delivered for `session` against the generator's truth: one result per
 * shared template, each the lab's own template (its first prompt's normalized text) standing for
 * its 4 prompts, matched by the other lab; nothing else, and no band value anywhere.
 */
function expectTemplateResults(lab: Lab, session: string): TemplateRow[] {
  const files = deliveredFiles(lab, session);
  for (const [name, text] of Object.entries(files)) expect(text, `${lab} ${name}`).not.toMatch(BAND);
  const rows = (files['.results.jsonl'] as string)
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TemplateRow);
  // Each template's representative is its first prompt in the file: the value is its normalized text.
  const firstOf = new Map<number, Prompt>();
  for (const p of prompts[lab]) if (!firstOf.has(p.template)) firstOf.set(p.template, p);
  const templateOf = new Map([...firstOf].map(([t, p]) => [normalizePromptText(p.value), t]));
  expect(templateOf.size, `${lab}'s templates are distinct`).toBe(HELD[lab].length);
  const found = rows.map((r) => templateOf.get(r.value));
  expect(found.sort(), lab).toEqual([...SHARED]);
  for (const r of rows) {
    expect(r.kind).toBe('prompt_template');
    expect(r.labs).toEqual([other(lab)]);
    expect(r.template.bands).toBe(PROMPT_TEMPLATE_PARAMETERS.bands);
    expect(r.template.prompts).toBe(VARIANTS);
    expect(r.template.matched[other(lab)]).toBeGreaterThanOrEqual(PROMPT_TEMPLATE_PARAMETERS.minBands);
    expect(r.template.jaccard[other(lab)]).toBeGreaterThan(0.5);
  }
  // The document holds the same results.
  const doc = JSON.parse(files['.json'] as string) as { session: string; lab: string; results: TemplateRow[] };
  expect(doc.session).toBe(session);
  expect(doc.lab).toBe(lab);
  expect(doc.results.map((r) => r.value).sort()).toEqual(rows.map((r) => r.value).sort());
  return rows;
}

beforeAll(async () => {
  relay = await startRelay(join(dir, 'relay', 'relay.db'));
  for (const lab of LABS) {
    mkdirSync(home(lab));
    await enrollLab(relay, home(lab), lab);
    writePrompts(join(home(lab), 'prompts.jsonl'), prompts[lab]);
    writeFileSync(join(home(lab), 'overlap.toml'), config());
  }
}, 180_000);

afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('the agent and prompt templates', () => {
  test('two agents deliver exactly the templates they share, gathered, without a band, the templates file erased', async () => {
    for (const lab of LABS) startAgent(lab);
    for (const lab of LABS) await agents.get(lab)?.logged((e) => e.event === 'agent_started');
    const session = await propose();
    for (const lab of LABS) await agents.get(lab)?.logged(delivered(session));
    for (const lab of LABS) {
      expectTemplateResults(lab, session);
      expect(existsSync(templatesFile(lab, session)), `${lab}'s templates file`).toBe(false);
      expect(existsSync(stateOf(lab, session)), `${lab}'s session state`).toBe(false);
      // The log names no band and no prompt (nor its normalized text).
      const text = JSON.stringify(agents.get(lab)?.events);
      expect(text).not.toMatch(BAND);
      for (const p of prompts[lab]) {
        expect(text).not.toContain(p.value);
        expect(text).not.toContain(normalizePromptText(p.value));
      }
      // The CSV: a header and a row per template, with the template's figures.
      const csv = readFileSync(join(home(lab), 'results', `${session}.results.csv`), 'utf8')
        .trim()
        .split('\n');
      expect(csv).toHaveLength(SHARED.length + 1);
      expect(csv[0]).toContain('prompts');
    }
  }, 300_000);

  test("lab-a's agent killed mid-session resumes from its saved templates and delivers them gathered", async () => {
    // lab-b stopped: the session cannot get past lab-a's first hop until lab-b runs again.
    expect((await (agents.get('lab-b') as AgentProcess).kill('SIGTERM')).code).toBe(0);
    const session = await propose();
    const a = agents.get('lab-a') as AgentProcess;
    const saved = templatesFile('lab-a', session);
    await joinedWithTemplates('lab-a', session);
    expect(await a.kill('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
    expect(a.events.some(delivered(session))).toBe(false);
    // The templates file: private, and what lab-a's resumed run needs to gather its results.
    expect(statSync(saved).mode & 0o777).toBe(0o600);
    expect(statSync(join(home('lab-a'), 'state', 'sessions')).mode & 0o777).toBe(0o700);
    const kept = JSON.parse(readFileSync(saved, 'utf8')) as { prompts: number; bands: string[] }[];
    expect(kept.map((t) => [t.prompts, t.bands.length])).toEqual(HELD['lab-a'].map(() => [VARIANTS, 64]));
    // lab-a's source now holds other prompts (those of lab-b's own template): a run that read its
    // source again would find that template shared, not the two the session was joined with.
    const source = join(home('lab-a'), 'prompts.jsonl');
    writePrompts(
      source,
      prompts['lab-b'].filter((p) => !SHARED.includes(p.template)),
    );
    try {
      const again = startAgent('lab-a');
      await again.logged((e) => e.event === 'session_resuming' && e.session === session);
      startAgent('lab-b');
      for (const lab of LABS) await agents.get(lab)?.logged(delivered(session));
      for (const lab of LABS) {
        expectTemplateResults(lab, session);
        expect(existsSync(templatesFile(lab, session)), `${lab}'s templates file`).toBe(false);
        expect(existsSync(stateOf(lab, session)), `${lab}'s session state`).toBe(false);
      }
      expect(again.events.some((e) => e.event === 'suspects_read' && e.session === session)).toBe(false);
    } finally {
      writePrompts(source, prompts['lab-a']);
    }
  }, 300_000);

  test('a session aborted while the agent runs it: its templates file is erased, no results written', async () => {
    expect((await (agents.get('lab-b') as AgentProcess).kill('SIGTERM')).code).toBe(0);
    const session = await propose();
    const a = agents.get('lab-a') as AgentProcess;
    await joinedWithTemplates('lab-a', session);
    await abortAsLabB(session);
    await a.logged((e) => e.event === 'session_aborted' && e.session === session);
    expect(existsSync(templatesFile('lab-a', session))).toBe(false);
    expect(existsSync(stateOf('lab-a', session))).toBe(false);
    expect(existsSync(join(home('lab-a'), 'results', `${session}.json`))).toBe(false);
  }, 300_000);

  // An agent that dies after its run saved its secrets but before its first progress (the window
  // LabStateStore.present() is about) finds no resumable state at its next start; if the session
  // was aborted meanwhile, session-task.ts answers "aborted" (the session is over and this lab "has
  // no state for it"), and must still erase what that run left. Simulated deterministically: lab-a killed once
  // joined, its progress.json removed, the session aborted, lab-a started again.
  test('an agent killed before its first progress, the session aborted meanwhile: the restarted agent ends it and erases what the dead run left', async () => {
    const session = await propose();
    const a = agents.get('lab-a') as AgentProcess;
    await joinedWithTemplates('lab-a', session);
    expect(await a.kill('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
    rmSync(join(stateOf('lab-a', session), 'progress.json'));
    await abortAsLabB(session);
    const again = startAgent('lab-a');
    await again.logged((e) => e.event === 'session_aborted' && e.session === session);
    expect(existsSync(join(home('lab-a'), 'results', `${session}.json`))).toBe(false);
    // The templates file (the lab's normalized prompts and ids) and the partial state (its key,
    // coin and order.json, which holds the lab's values) must not stay behind.
    expect(existsSync(templatesFile('lab-a', session)), 'the templates file').toBe(false);
    expect(existsSync(stateOf('lab-a', session)), 'the partial state').toBe(false);
  }, 300_000);
});
