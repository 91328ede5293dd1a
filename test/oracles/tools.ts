// Locating external oracle tools. Under CI=true (or JITBOX_REQUIRE_ORACLES=1) a missing tool
// throws, so the oracle suite fails instead of silently skipping; locally it reports a skip.
import { spawnSync } from 'node:child_process';

export const REQUIRE_ORACLES = process.env.CI === 'true' || process.env.JITBOX_REQUIRE_ORACLES === '1';

const cache = new Map<string, boolean>();

export function hasTool(cmd: string, args: string[] = ['--version']): boolean {
  const key = cmd + ' ' + args.join(' ');
  let ok = cache.get(key);
  if (ok === undefined) {
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    ok = r.error === undefined && r.status !== null;
    cache.set(key, ok);
  }
  return ok;
}

/**
 * True when the tool is usable. When it is not: throws under CI (a failure), else returns false so
 * the caller can `it.skipIf(!tool)` locally.
 */
export function requireTool(cmd: string, args: string[] = ['--version'], pkg = cmd): boolean {
  if (hasTool(cmd, args)) return true;
  if (REQUIRE_ORACLES) throw new Error(`oracle tool "${cmd}" is missing (Debian package ${pkg}); .ci/run installs it`);
  return false;
}

/** /usr/bin/python3 with a module importable (Debian's python3-unicorn). */
export function requirePythonModule(mod: string, pkg: string): boolean {
  return requireTool('/usr/bin/python3', ['-c', `import ${mod}`], pkg);
}
