// Tables for the experiments: one data shape rendered three ways (terminal text, Markdown, HTML),
// so the terminal, report.md and report.html always show the same numbers.
//
// Invariants: every row has one cell per column; numbers are right-aligned in text and Markdown;
// HTML escapes every cell (cells are data, never markup).

export type Cell = string | number | null;

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
  /** Lines printed under the table (units, caveats). */
  notes?: string[];
}

function cellText(c: Cell): string {
  if (c === null) return 'n/a';
  if (typeof c === 'number') {
    if (Number.isInteger(c)) return String(c);
    const a = Math.abs(c);
    return a >= 100 ? c.toFixed(1) : a >= 1 ? c.toFixed(2) : c.toFixed(3);
  }
  return c;
}

function isNumeric(c: Cell): boolean {
  return typeof c === 'number' || c === null;
}

export function renderText(t: Table): string {
  const texts = t.rows.map((r) => r.map(cellText));
  const widths = t.columns.map((h, i) => Math.max(h.length, ...texts.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[], raw: Cell[] | null): string =>
    cells.map((s, i) => (raw && isNumeric(raw[i] ?? null) ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [t.title, fmt(t.columns, null), widths.map((w) => '-'.repeat(w)).join('  ')];
  texts.forEach((r, k) => out.push(fmt(r, t.rows[k]!)));
  for (const n of t.notes ?? []) out.push(`  ${n}`);
  return out.join('\n');
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function renderMarkdown(t: Table): string {
  const align = t.columns.map((_, i) => (t.rows.length > 0 && t.rows.every((r) => isNumeric(r[i] ?? null)) ? '---:' : '---'));
  const out = [`### ${mdEscape(t.title)}`, '', `| ${t.columns.map(mdEscape).join(' | ')} |`, `| ${align.join(' | ')} |`];
  for (const r of t.rows) out.push(`| ${r.map((c) => mdEscape(cellText(c))).join(' | ')} |`);
  if (t.notes && t.notes.length > 0) out.push('', ...t.notes.map((n) => `- ${n}`));
  return out.join('\n');
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderHtml(t: Table): string {
  const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = t.rows
    .map((r) => `<tr>${r.map((c) => `<td${isNumeric(c) ? ' class="num"' : ''}>${escapeHtml(cellText(c))}</td>`).join('')}</tr>`)
    .join('\n');
  const notes = (t.notes ?? []).map((n) => `<li>${escapeHtml(n)}</li>`).join('');
  return `<h3>${escapeHtml(t.title)}</h3>\n<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>${notes ? `\n<ul class="notes">${notes}</ul>` : ''}`;
}
