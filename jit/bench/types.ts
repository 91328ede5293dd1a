// A benchmark is a module jit/bench/<name>.ts exporting `bench: Benchmark`. `jitbox bench NAME` and
// `npm run bench -- NAME` load it by name. Performance goals are ratios against a baseline measured
// in the same run (DEVELOPERS.md), printed by the benchmark itself; no test asserts timings.

export interface BenchOptions {
  seed: number;
  /** Smaller sizes for a quick look (and for the tests that run every benchmark once). */
  quick: boolean;
  json: boolean;
  /** Where charts (SVG) and reports go; benchmarks that write files say so in their output. */
  outDir: string;
  /** Extra `key=value` settings given as `--set key=value`. */
  settings: Record<string, string>;
  /** Progress reporting (stderr, suppressed with --json). */
  progress(done: number, total: number, label: string): void;
}

export interface BenchReport {
  /** The one JSON object printed with --json (64-bit values as hex strings). */
  json: Record<string, unknown>;
  /** Human-readable table(s). */
  text: string;
}

export interface Benchmark {
  name: string;
  description: string;
  run(opts: BenchOptions): Promise<BenchReport>;
}
