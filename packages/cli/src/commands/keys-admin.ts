/**
 * The key and membership commands, loaded together (program.ts): `overlap keygen` (keygen.ts),
 * `overlap key show` (key-show.ts) and `overlap admin enroll|revoke|list` (admin.ts).
 */
import type { Command } from 'commander';
import type { ProgramIo } from '../io.js';
import { addAdminCommands } from './admin.js';
import { addKeyCommands } from './key-show.js';
import { addKeygenCommand } from './keygen.js';

export function addKeysAndAdminCommands(program: Command, io: ProgramIo): void {
  addKeygenCommand(program, io);
  addKeyCommands(program, io);
  addAdminCommands(program, io);
}
