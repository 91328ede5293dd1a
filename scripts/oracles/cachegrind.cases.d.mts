// Types for cachegrind.cases.mjs.
import type { CaseArgs } from './cachegrind.mjs';
export const CASES: CaseArgs[];
