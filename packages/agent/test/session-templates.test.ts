/**
 * A joined session's prompt templates on disk (session-templates.ts), on a real temporary state
 * directory, with templates read by the SDK from a real prompts file: what is saved is what a
 * resumed run loads; the file is private (0600 in 0700 folders) whatever the umask; no file is
 * "none saved"; a damaged file is STATE_DAMAGED and never quoted (it holds the lab's prompts);
 * erasing is final and may be repeated.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readIndicatorFile, type TemplateOfFile } from '@overlap/client';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AgentError } from '../src/errors.js';
import { eraseTemplates, loadTemplates, saveTemplates } from '../src/session-templates.js';
import { promptsOf, writePrompts } from './support/prompt-campaign.js';

const SESSION = '0123456789abcdef'.repeat(2);
const OTHER = 'fedcba9876543210'.repeat(2);
let dir: string;
let templates: TemplateOfFile[];

const fileOf = (stateDir: string, session = SESSION) => join(stateDir, 'sessions', `${session}.templates.json`);

beforeAll(async () => {
  // Real templates: a lab's prompts file read by the SDK, as the agent reads its source.
  const source = await mkdtemp(join(tmpdir(), 'overlap-session-templates-src-'));
  try {
    writePrompts(join(source, 'prompts.jsonl'), promptsOf('lab-a'));
    templates = (await readIndicatorFile(join(source, 'prompts.jsonl'))).templates ?? [];
  } finally {
    await rm(source, { recursive: true, force: true });
  }
  expect(templates).toHaveLength(3);
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'overlap-session-templates-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function damaged(load: Promise<unknown>): Promise<AgentError> {
  const error = await load.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentError);
  return error as AgentError;
}

describe('saveTemplates and loadTemplates', () => {
  it('load answers what was saved, a template without an id included', async () => {
    const { id: _, ...anonymous } = templates[1] as TemplateOfFile;
    const saved = [templates[0] as TemplateOfFile, anonymous, templates[2] as TemplateOfFile];
    await saveTemplates(dir, SESSION, saved);
    const loaded = await loadTemplates(dir, SESSION);
    expect(loaded).toStrictEqual(saved);
    expect(loaded?.[1]).not.toHaveProperty('id');
    expect(loaded?.map((t) => t.bands.length)).toEqual([64, 64, 64]);
  });

  it('an empty list is a list (a session of prompts with none held)', async () => {
    await saveTemplates(dir, SESSION, []);
    expect(await loadTemplates(dir, SESSION)).toEqual([]);
  });

  it('saving again replaces the list, and each session has its own file', async () => {
    await saveTemplates(dir, SESSION, templates);
    await saveTemplates(dir, OTHER, templates.slice(0, 1));
    await saveTemplates(dir, SESSION, templates.slice(2));
    expect(await loadTemplates(dir, SESSION)).toStrictEqual(templates.slice(2));
    expect(await loadTemplates(dir, OTHER)).toStrictEqual(templates.slice(0, 1));
  });

  it('is 0600 in 0700 folders, made where missing, even with umask 0, and leaves no temporary file', async () => {
    const stateDir = join(dir, 'lab', 'state');
    const previous = process.umask(0);
    try {
      await saveTemplates(stateDir, SESSION, templates);
    } finally {
      process.umask(previous);
    }
    expect((await stat(fileOf(stateDir))).mode & 0o777).toBe(0o600);
    expect((await stat(join(stateDir, 'sessions'))).mode & 0o777).toBe(0o700);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'lab'))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(stateDir, 'sessions'))).toEqual([`${SESSION}.templates.json`]);
  });

  it('a replaced file stays 0600 with umask 0', async () => {
    await saveTemplates(dir, SESSION, templates);
    const previous = process.umask(0);
    try {
      await saveTemplates(dir, SESSION, templates.slice(1));
    } finally {
      process.umask(previous);
    }
    expect((await stat(fileOf(dir))).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'sessions'))).toEqual([`${SESSION}.templates.json`]);
  });

  it('no file is undefined: no sessions folder, or only another session’s file', async () => {
    expect(await loadTemplates(dir, SESSION)).toBeUndefined();
    await saveTemplates(dir, OTHER, templates);
    expect(await loadTemplates(dir, SESSION)).toBeUndefined();
  });
});

describe('a damaged file is STATE_DAMAGED, and never quoted', () => {
  /** A template as saved, one field changed (or removed, with undefined). */
  const changed = (field: string, value: unknown) =>
    JSON.stringify(
      templates.map((t, i) => {
        if (i !== 1) return t;
        const copy: Record<string, unknown> = { ...t };
        if (value === undefined) delete copy[field];
        else copy[field] = value;
        return copy;
      }),
    );

  it.each([
    ['not JSON (cut short)', () => JSON.stringify(templates).slice(0, 700)],
    ['empty', () => ''],
    ['not a list (an object)', () => JSON.stringify({ templates })],
    ['not a list (one template)', () => JSON.stringify(templates[0])],
    ['JSON null', () => 'null'],
    ['a template without bands', () => changed('bands', undefined)],
    ['a band that is not a string', () => changed('bands', [...(templates[1]?.bands ?? []).slice(1), 7])],
    ['bands that are not a list', () => changed('bands', (templates[1]?.bands ?? []).join(','))],
    ['a line that is not an integer', () => changed('line', 1.5)],
    ['a line that is a string', () => changed('line', '2')],
    ['no line', () => changed('line', undefined)],
    ['prompts that is not an integer', () => changed('prompts', '4')],
    ['a text that is not a string', () => changed('text', ['articulate'])],
    ['an id that is not a string', () => changed('id', 17)],
    ['null among the templates', () => JSON.stringify([templates[0], null])],
  ])('%s', async (_what, content) => {
    const text = content();
    await mkdir(join(dir, 'sessions'), { recursive: true });
    await writeFile(fileOf(dir), text);
    const error = await damaged(loadTemplates(dir, SESSION));
    expect(error.code).toBe('STATE_DAMAGED');
    expect(error.message).toContain(`${SESSION}.templates.json`);
    // The file holds the lab's prompts: no text of any template reaches the error (message, cause, details).
    const said = [error.message, (error.cause as Error | undefined)?.message, JSON.stringify(error.details)].join(' ');
    for (const t of templates) {
      expect(said).not.toContain(t.text);
      for (const word of t.text.split(' ').filter((w) => w.length > 6)) expect(said).not.toContain(word);
      expect(said).not.toContain(t.id as string);
    }
    // Left as it was, for an engineer.
    expect(await readFile(fileOf(dir), 'utf8')).toBe(text);
  });
});

describe('eraseTemplates', () => {
  it("removes the session's file only, and erasing again (or with nothing saved) is fine", async () => {
    await eraseTemplates(dir, SESSION); // no sessions folder yet
    await saveTemplates(dir, SESSION, templates);
    await saveTemplates(dir, OTHER, templates);
    await eraseTemplates(dir, SESSION);
    expect(await loadTemplates(dir, SESSION)).toBeUndefined();
    expect(await readdir(join(dir, 'sessions'))).toEqual([`${OTHER}.templates.json`]);
    await eraseTemplates(dir, SESSION);
    expect(await loadTemplates(dir, OTHER)).toStrictEqual(templates);
  });
});
