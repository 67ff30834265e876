import type { Command } from 'commander';

export function registerRestoreCommand(_program: Command): void {}
