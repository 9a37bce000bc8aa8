/**
 * The agent's record on disk (agent-state.ts): kept across opens, one agent at a time, private
 * whatever the umask, and a damaged or foreign file refused instead of taken for "nothing decided".
 */
import { mkdir, mkdtemp, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentState } from '../src/agent-state.js';

const ID = 'ab'.repeat(16);
const HOUR = 3_600_000;
let opened: AgentState[] = [];

async function open(dir: string): Promise<AgentState> {
  const state = await AgentState.open(dir);
  opened.push(state);
  return state;
}

afterEach(async () => {
  for (const state of opened) await state.close();
  opened = [];
});

describe('AgentState', () => {
  it('keeps the cursor, decisions, quota joins and schedule slots across opens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agent-state-'));
    const first = await open(dir);
    await first.setCursor(7);
    await first.setCursor(3); // never goes back
    await first.record(ID, { state: 'joined', at: 1000, rule: 0 }, 1000);
    await first.fired('daily', 5000);
    await first.close();
    opened = [];
    const again = await open(dir);
    expect(again.cursor).toBe(7);
    expect(again.session(ID)).toEqual({ state: 'joined', at: 1000, rule: 0 });
    expect(again.sessionsIn('joined')).toEqual([ID]);
    expect(again.joinsOf(0)).toEqual([1000]);
    expect(again.lastFired('daily')).toBe(5000);
  });

  it('forgets quota joins older than a day', async () => {
    const state = await open(await mkdtemp(join(tmpdir(), 'agent-state-')));
    await state.record('01'.repeat(16), { state: 'joined', at: 0, rule: 0 }, 0);
    await state.record('02'.repeat(16), { state: 'joined', at: 25 * HOUR, rule: 0 }, 25 * HOUR);
    expect(state.joinsOf(0)).toEqual([25 * HOUR]);
  });

  it('is private (0600 in 0700) whatever the umask', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agent-state-'));
    const umask = process.umask(0);
    try {
      const state = await open(dir);
      await state.setCursor(1);
    } finally {
      process.umask(umask);
    }
    expect((await stat(join(dir, 'agent'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'agent', 'agent.json'))).mode & 0o777).toBe(0o600);
  });

  it('refuses a second agent on the same state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agent-state-'));
    await open(dir);
    await expect(AgentState.open(dir)).rejects.toMatchObject({ code: 'STATE_LOCKED' });
  });

  it.each([
    ['not JSON', '{"format":'],
    [
      'another format',
      JSON.stringify({ format: 'overlap-agent-state/9', cursor: 0, sessions: {}, joins: {}, schedules: {} }),
    ],
    [
      'a bad record',
      JSON.stringify({ format: 'overlap-agent-state/1', cursor: -1, sessions: {}, joins: {}, schedules: {} }),
    ],
  ])('refuses a damaged file (%s), and lets its lock go', async (_what, text) => {
    const dir = await mkdtemp(join(tmpdir(), 'agent-state-'));
    await (await AgentState.open(dir)).close();
    await writeFile(join(dir, 'agent', 'agent.json'), text);
    await expect(AgentState.open(dir)).rejects.toMatchObject({ code: 'STATE_DAMAGED' });
    expect(await readFile(join(dir, 'agent', 'agent.json'), 'utf8')).toBe(text);
    await (await open(dir).catch(() => undefined))?.close();
    await expect(AgentState.open(dir)).rejects.toMatchObject({ code: 'STATE_DAMAGED' });
  });
  it('a write that fails changes nothing, and the next one is made afresh', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agent-state-'));
    const state = await open(dir);
    await state.setCursor(1);
    // The file's place taken by a directory: the atomic rename over it fails.
    const file = join(dir, 'agent', 'agent.json');
    const kept = await readFile(file, 'utf8');
    await rm(file);
    await mkdir(file);
    await expect(state.record(ID, { state: 'joined', at: 5, rule: 0 }, 5)).rejects.toBeDefined();
    expect(state.session(ID)).toBeUndefined(); // not taken for made
    expect(state.joinsOf(0)).toEqual([]);
    await rmdir(file);
    await state.record(ID, { state: 'declined', at: 6, reason: 'r' }, 6);
    expect(state.session(ID)).toMatchObject({ state: 'declined' });
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({
      cursor: 1,
      sessions: { [ID]: { state: 'declined' } },
    });
    expect(kept).toContain('"cursor": 1');
  });
});
