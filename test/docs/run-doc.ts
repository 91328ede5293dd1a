// Helpers for the docs tests: split a shell command line into words (single/double quotes), run a
// `jitbox ...` line through the built CLI (dist/jit/cli.js), and read the fenced `sh` blocks of a
// Markdown page with the HTML-comment markers under each one:
//   <!-- expect: TEXT -->   the block's output contains TEXT
//   <!-- expect-re: RE -->  the block's output matches RE (JavaScript syntax, no flags)
//   <!-- exit: N -->        every command of the block exits with N (default 0)
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runCaptured } from '../cli-capture.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'jit', 'cli.js');

export function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3] ?? ''));
  return words;
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function jitbox(args: readonly string[]): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** As `jitbox`, without blocking: lets vitest run independent CLI processes concurrently. */
export function jitboxAsync(args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export interface DocBlock {
  /** The nearest `##` heading above the block. */
  section: string;
  commands: string[][];
  expects: string[];
  expectRes: RegExp[];
  exit: number;
}

export function docBlocks(markdown: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  let section = '';
  let current: DocBlock | null = null;
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('## ')) {
      section = line.slice(3).trim();
      current = null;
      continue;
    }
    if (line.trim() === '```sh') {
      const commands: string[][] = [];
      for (i++; i < lines.length && (lines[i] as string).trim() !== '```'; i++) {
        const text = (lines[i] as string).trim();
        if (text === '' || text.startsWith('#')) continue;
        const words = shellWords(text);
        if (words[0] !== 'jitbox') throw new Error(`${section}: a command must start with "jitbox": ${text}`);
        commands.push(words.slice(1));
      }
      current = { section, commands, expects: [], expectRes: [], exit: 0 };
      blocks.push(current);
      continue;
    }
    const m = /^<!--\s*(expect|expect-re|exit):\s?(.*?)\s*-->$/.exec(line.trim());
    if (m && current) {
      if (m[1] === 'expect') current.expects.push(m[2] as string);
      else if (m[1] === 'expect-re') current.expectRes.push(new RegExp(m[2] as string));
      else current.exit = Number(m[2]);
    }
  }
  return blocks;
}

/**
 * Run the CLI program in this process (jit/cli.ts buildProgram), capturing stdout, stderr and the
 * exit code: for typed-error paths, which never call process.exit (cli-util.ts sets exitCode).
 */
export async function jitboxInProcess(args: readonly string[]): Promise<CliRun> {
  const { buildProgram } = await import('../../jit/cli.js');
  const program = buildProgram({ json: args.includes('--json') });
  return runCaptured(program, args);
}
