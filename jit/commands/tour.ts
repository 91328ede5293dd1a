// PLACEHOLDER: commands of this group are registered here by the issue that builds them.
import type { Command } from 'commander';

export function register(_program: Command): void {}
