/** Every `bienvenue` command and group, in the order `--help` lists them. */
import type { Command, CommandGroup } from '../command.js';
import { backupCommand } from './backup.js';
import { configGroup } from './config-check.js';
import { eventsCommand } from './events.js';
import { hashGroup } from './hash-calibrate.js';
import { migrateCommand } from './migrate.js';
import { serveCommand } from './serve.js';
import { usersGroup } from './users.js';

export const COMMANDS: readonly (Command | CommandGroup)[] = [
  serveCommand,
  migrateCommand,
  backupCommand,
  usersGroup,
  eventsCommand,
  configGroup,
  hashGroup,
];
