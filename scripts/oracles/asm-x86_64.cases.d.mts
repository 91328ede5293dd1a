// Types for asm-x86_64.cases.mjs.
export const R64: string[];
export const R32: string[];
export const R16: string[];
export const R8: string[];
export function cases(): { call: string; asm: string }[];
export function blocks(): { call: string; asm: string }[];
