// The experiments as a library (issue 8; the code behind `jitbox bench unpack|colocate|pack` and
// `jitbox report`): a seeded context, each experiment's run function over its parameters, and the
// tables, conclusions and charts computed from its rows. Results are a pure function of (seed,
// parameters); wall-clock times are kept apart in `ctx.runtime`.

export { makeContext, deriveSeed, progressBar, type ExperimentContext, type ProgressFn } from './runner.js';
export { defaultModelParams, modelParamsFromSettings, makeHierarchy, configFor, type ModelArch, type ModelParams, type ModelCounts } from './model.js';
export {
  runColocate, colocateSteps, colocateConclusions, colocateTables, colocateCharts, perLookup, PUBLISHED_COLOCATE,
  type ColocateParams, type ColocateRow, type ColocateResult,
} from './colocate.js';
export {
  runPack, packSteps, packConclusions, packTables, packChart, comparePublished, PACK_MODES, PUBLISHED as PUBLISHED_PACK, PUBLISHED_RATIO,
  type PackMode, type PackParams, type PackRow, type PackResult,
} from './pack.js';
export { emulatorRows, EMU_VARIANTS, type EmuVariant, type EmuUnpackRow, type EmuUnpackParams } from './unpack-emu.js';
export { renderText as renderTableText, renderMarkdown as renderTableMarkdown, renderHtml as renderTableHtml, type Table } from './table.js';
export { lineChartSvg, barChartSvg, type LineChart, type BarChart } from './svg.js';
export { renderReportMarkdown, renderReportHtml, writeReport, type ReportDoc, type ReportSection } from './report.js';
