/**
 * A joined session's prompt templates, kept beside its resumable state
 * (`<state dir>/sessions/<session>.templates.json`, 0600 in a 0700 folder, written atomically)
 * until its results are delivered: a resumed run does not read its sources again, and without
 * them the bands that come back could not be gathered into the lab's templates. It holds the
 * lab's own normalized prompt texts and ids, so it is erased with the session's state.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TemplateOfFile } from '@overlap/client';
import { makePrivateDirectory, writeFileAtomic } from '@overlap/files';
import { AgentError } from './errors.js';

function templatesPath(stateDir: string, session: string): string {
  return join(stateDir, 'sessions', `${session}.templates.json`);
}

export async function saveTemplates(stateDir: string, session: string, templates: TemplateOfFile[]): Promise<void> {
  await makePrivateDirectory(join(stateDir, 'sessions'));
  await writeFileAtomic(templatesPath(stateDir, session), JSON.stringify(templates), { replace: true });
}

/** The templates saved for `session`; undefined when none were (its sessions hold no prompts). */
export async function loadTemplates(stateDir: string, session: string): Promise<TemplateOfFile[] | undefined> {
  let text: string;
  try {
    text = await readFile(templatesPath(stateDir, session), 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined; // a file cut short or overwritten: damaged, said below (its text holds prompts: not quoted)
  }
  if (!Array.isArray(parsed) || !parsed.every(isTemplate)) {
    throw new AgentError('STATE_DAMAGED', `${templatesPath(stateDir, session)} is not a list of prompt templates`);
  }
  return parsed;
}

export async function eraseTemplates(stateDir: string, session: string): Promise<void> {
  await rm(templatesPath(stateDir, session), { force: true });
}

function isTemplate(value: unknown): value is TemplateOfFile {
  const t = value as Partial<TemplateOfFile> | null;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.text === 'string' &&
    Number.isSafeInteger(t.line) &&
    Number.isSafeInteger(t.prompts) &&
    (t.id === undefined || typeof t.id === 'string') &&
    Array.isArray(t.bands) &&
    t.bands.every((band) => typeof band === 'string')
  );
}
