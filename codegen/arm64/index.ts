// arm64 assembler: typed registers, pure encoders (enc-*.ts), tables (tables.ts), bitmask
// immediates, constant synthesis, buffer appenders (emit.ts) and label kinds/veneers (labels.ts).
export * from './regs.js';
export * from './errors.js';
export * from './tables.js';
export * from './bitmask.js';
export * from './enc-dp.js';
export * from './enc-mem.js';
export * from './enc-ctl.js';
export * from './imm64.js';
export * from './emit.js';
export * from './labels.js';
export * from './stream.js';
export * from './macro.js';
