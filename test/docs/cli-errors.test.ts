// Errors on the CLI (jit/cli-util.ts, jit/cli.ts): a typed error prints as exactly one line
// `jitbox: <message>` on stderr with exit code 1 and nothing on stdout; with --json it is one
// object {"error": {name, kind, message, details}, ...} on stdout; --debug adds the stack; usage
// errors from commander follow the same shape (kind "usage"). Typed errors run in-process (the
// same program object the CLI builds); usage errors and --debug go through the built CLI.
import { describe, expect, it } from 'vitest';
import { jitbox, jitboxInProcess } from './run-doc.js';

interface ErrJson {
  error: { name: string; kind: string; message: string; details: Record<string, unknown> };
  kind: string;
  message: string;
}

const BAD: { args: string[]; kind: string; message: RegExp }[] = [
  { args: ['tour', '--arch', 'sparc'], kind: 'invalid-argument', message: /^--arch must be x86_64, arm64 or both, got "sparc"$/ },
  { args: ['tour', '--seed', '-3'], kind: 'invalid-argument', message: /^--seed must be an integer/ },
  { args: ['run', 'no/such/file.o'], kind: 'invalid-argument', message: /^cannot read "no\/such\/file\.o"/ },
  { args: ['run', 'examples/bpf/checksum.c'], kind: 'invalid-argument', message: /unknown program type "\.c"/ },
  { args: ['emu', '--arch', 'x86_64', '--hex', 'ff ff'], kind: 'invalid-instruction', message: /^invalid instruction at 0x[0-9a-f]+/ },
  { args: ['execmem', 'map', '--arch', 'x86_64', '--module', 'examples/modules/wx_section.json'], kind: 'module-load', message: /writable and executable/ },
  { args: ['wx', 'nope'], kind: 'invalid-argument', message: /^unknown lesson "nope"/ },
];

describe('CLI errors', () => {
  for (const b of BAD) {
    it(`jitbox ${b.args.join(' ')}: one line, exit 1; --json: one error object`, async () => {
      const t = await jitboxInProcess(b.args);
      expect(t.status).toBe(1);
      expect(t.stdout).toBe('');
      const lines = t.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^jitbox: /);
      expect((lines[0] as string).slice('jitbox: '.length)).toMatch(b.message);

      const j = await jitboxInProcess(['--json', ...b.args]);
      expect(j.status).toBe(1);
      expect(j.stderr).toBe('');
      expect(j.stdout.trim().split('\n')).toHaveLength(1);
      const e = JSON.parse(j.stdout) as ErrJson;
      expect(e.error.kind).toBe(b.kind);
      expect(e.error.message).toMatch(b.message);
      expect(e.error.name).toMatch(/Error|Fault/);
      expect(typeof e.error.details).toBe('object');
      expect(e.kind).toBe(e.error.kind);
      expect(e.message).toBe(e.error.message);
    });
  }

  it('--debug adds the stack trace after the one-line message', () => {
    const r = jitbox(['--debug', 'tour', '--arch', 'sparc']);
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe('jitbox: --arch must be x86_64, arm64 or both, got "sparc"');
    expect(lines[1]).toMatch(/^InvalidArgumentError: /);
    expect(r.stderr).toMatch(/\n {4}at /);
  });

  it('usage errors: one message line (plus a hint), or one JSON object with kind "usage"', () => {
    const t = jitbox(['no-such-command']);
    expect(t.status).toBe(1);
    expect(t.stdout).toBe('');
    expect(t.stderr.split('\n')[0]).toBe("jitbox: unknown command 'no-such-command'");
    expect(t.stderr).not.toMatch(/Usage:/);
    const j = jitbox(['--json', 'execmem', 'map']);
    expect(j.status).toBe(1);
    expect(j.stderr).toBe('');
    const e = JSON.parse(j.stdout) as ErrJson;
    expect(e.error).toEqual({ name: 'UsageError', kind: 'usage', message: "required option '--arch <arch>' not specified", details: {} });
  });
});
