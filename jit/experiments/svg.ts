// Plain-SVG charts for the experiments (no dependencies): grouped bars and line charts with axes,
// tick labels, axis titles and a legend. Used by the benches (`--svg PATH`) and `jitbox report`.
//
// Invariants:
// - Output is a standalone, well-formed SVG 1.1 document (every text escaped); each bar or point
//   carries its value (4 decimals) in `data-value` and a <title>, so the chart holds the data it shows.
// - Scales are linear from 0 (bars) or from the data's range (lines); `logX` uses log10 and
//   requires positive x. Non-finite values are skipped (gaps), never drawn as 0.
// - Deterministic: the same data gives the same bytes (numbers printed with fixed precision).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgumentError } from '../../support/errors.js';

export interface BarChart {
  title: string;
  yLabel: string;
  /** Group names along x. */
  groups: string[];
  /** One series per bar colour; values[i] belongs to groups[i] (null = no bar). */
  series: { name: string; values: (number | null)[] }[];
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  series: { name: string; points: { x: number; y: number }[] }[];
}

const W = 760;
const H = 420;
const M = { left: 78, right: 180, top: 42, bottom: 70 };
const PALETTE = ['#4477aa', '#ee6677', '#228833', '#ccbb44', '#66ccee', '#aa3377', '#bbbbbb', '#000000'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(4)));
}

/** Nice tick step for a range (1, 2, 5 x 10^k). */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function fmtTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(1);
  if (a >= 1000) return String(Math.round(v));
  return String(Number(v.toPrecision(4)));
}

function frame(title: string, body: string[]): string {
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...body,
    `</svg>`,
    '',
  ].join('\n');
}

function yAxis(maxY: number, minY: number, yLabel: string, y: (v: number) => number): string[] {
  const out: string[] = [];
  const step = niceStep(maxY - minY || 1, 5);
  const first = Math.ceil(minY / step) * step;
  for (let v = first; v <= maxY + step * 1e-9; v += step) {
    const py = y(v).toFixed(1);
    out.push(`<line x1="${M.left}" y1="${py}" x2="${W - M.right}" y2="${py}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${M.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${esc(fmtTick(v))}</text>`);
  }
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#000"/>`);
  out.push(`<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#000"/>`);
  const cy = (M.top + H - M.bottom) / 2;
  out.push(`<text x="18" y="${cy}" text-anchor="middle" transform="rotate(-90 18 ${cy})">${esc(yLabel)}</text>`);
  return out;
}

function legend(names: string[], marker: 'rect' | 'line'): string[] {
  const out: string[] = [];
  const x0 = W - M.right + 14;
  names.forEach((n, i) => {
    const y = M.top + 8 + i * 20;
    const c = PALETTE[i % PALETTE.length]!;
    out.push(marker === 'rect' ? `<rect x="${x0}" y="${y - 6}" width="14" height="12" fill="${c}"/>` : `<line x1="${x0}" y1="${y}" x2="${x0 + 16}" y2="${y}" stroke="${c}" stroke-width="2.5"/>`);
    out.push(`<text x="${x0 + 22}" y="${y}" dominant-baseline="middle">${esc(n)}</text>`);
  });
  return out;
}

export function barChartSvg(c: BarChart): string {
  for (const s of c.series) {
    if (s.values.length !== c.groups.length) throw new InvalidArgumentError(`bar chart "${c.title}": series "${s.name}" has ${s.values.length} values for ${c.groups.length} groups`);
  }
  const vals = c.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const maxY = Math.max(0, ...vals) * 1.08 || 1;
  const minY = Math.min(0, ...vals) * 1.08;
  const plotH = H - M.top - M.bottom;
  const y = (v: number): number => M.top + plotH * (1 - (v - minY) / (maxY - minY));
  const body = yAxis(maxY, minY, c.yLabel, y);
  const plotW = W - M.left - M.right;
  const gw = plotW / Math.max(1, c.groups.length);
  const bw = (gw * 0.8) / Math.max(1, c.series.length);
  c.groups.forEach((g, gi) => {
    const gx = M.left + gi * gw;
    c.series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const x = gx + gw * 0.1 + si * bw;
      const top = Math.min(y(v), y(0));
      const h = Math.abs(y(v) - y(0));
      body.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}" data-series="${esc(s.name)}" data-group="${esc(g)}" data-value="${num(v)}"><title>${esc(`${s.name}, ${g}: ${num(v)}`)}</title></rect>`,
      );
    });
    const lx = gx + gw / 2;
    body.push(`<text x="${lx.toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(g)}</text>`);
  });
  body.push(...legend(c.series.map((s) => s.name), 'rect'));
  return frame(c.title, body);
}

export function lineChartSvg(c: LineChart): string {
  const pts = c.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (c.logX && pts.some((p) => p.x <= 0)) throw new InvalidArgumentError(`line chart "${c.title}": log x axis needs positive x`);
  const tx = (x: number): number => (c.logX ? Math.log10(x) : x);
  const xs = pts.map((p) => tx(p.x));
  const minX = xs.length ? Math.min(...xs) : 0;
  const maxX = xs.length ? Math.max(...xs) : 1;
  const maxY = Math.max(0, ...pts.map((p) => p.y)) * 1.08 || 1;
  const minY = Math.min(0, ...pts.map((p) => p.y));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (v: number): number => M.left + (maxX === minX ? plotW / 2 : (plotW * (tx(v) - minX)) / (maxX - minX));
  const y = (v: number): number => M.top + plotH * (1 - (v - minY) / (maxY - minY));
  const body = yAxis(maxY, minY, c.yLabel, y);
  const ticks = c.logX
    ? Array.from({ length: Math.floor(maxX) - Math.ceil(minX) + 1 }, (_, i) => 10 ** (Math.ceil(minX) + i))
    : [...new Set(pts.map((p) => p.x))].sort((a, b) => a - b);
  for (const t of ticks) {
    const px = x(t).toFixed(1);
    body.push(`<line x1="${px}" y1="${H - M.bottom}" x2="${px}" y2="${H - M.bottom + 4}" stroke="#000"/>`);
    body.push(`<text x="${px}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(fmtTick(t))}</text>`);
  }
  body.push(`<text x="${M.left + plotW / 2}" y="${H - M.bottom + 38}" text-anchor="middle">${esc(c.xLabel + (c.logX ? ' (log scale)' : ''))}</text>`);
  c.series.forEach((s, si) => {
    const col = PALETTE[si % PALETTE.length]!;
    const good = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (good.length > 1) {
      const d = good.map((p, i) => `${i ? 'L' : 'M'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
      body.push(`<path d="${d}" fill="none" stroke="${col}" stroke-width="2"/>`);
    }
    for (const p of good) {
      body.push(
        `<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3" fill="${col}" data-series="${esc(s.name)}" data-x="${num(p.x)}" data-value="${num(p.y)}"><title>${esc(`${s.name}, ${num(p.x)}: ${num(p.y)}`)}</title></circle>`,
      );
    }
  });
  body.push(...legend(c.series.map((s) => s.name), 'line'));
  return frame(c.title, body);
}

/** Several chart documents stacked vertically in one SVG document (nested <svg> elements). */
export function stackSvg(docs: readonly string[]): string {
  if (docs.length === 1) return docs[0] as string;
  const inner = docs.map((d, k) =>
    d
      .replace(/^<\?xml[^>]*>\n/, '')
      .replace('<svg xmlns="http://www.w3.org/2000/svg" version="1.1" ', `<svg x="0" y="${k * H}" `)
      .trimEnd(),
  );
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${W}" height="${H * docs.length}" viewBox="0 0 ${W} ${H * docs.length}">`,
    ...inner,
    `</svg>`,
    '',
  ].join('\n');
}

/** Write an SVG document, creating its directory. Returns the path. */
export function writeSvg(path: string, svg: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
  return path;
}
