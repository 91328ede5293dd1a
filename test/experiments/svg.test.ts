// SVG charts and tables: well-formed documents that contain the data they draw; escaping; errors.
import { describe, expect, it } from 'vitest';
import { barChartSvg, lineChartSvg, stackSvg } from '../../jit/experiments/svg.js';
import { renderHtml, renderMarkdown, renderText, type Table } from '../../jit/experiments/table.js';
import { checkWellFormed, dataValues } from './xml.js';

describe('SVG charts', () => {
  it('a grouped bar chart is well-formed and holds every value, with a legend entry per series', () => {
    const svg = barChartSvg({
      title: 'misses <per> "1k" & more',
      yLabel: 'iTLB / 1k',
      groups: ['x86_64', 'arm64'],
      series: [
        { name: 'page', values: [3.417, 2.5] },
        { name: 'pack-2m', values: [0, null] },
        { name: 'neg', values: [-1.25, 7] },
      ],
    });
    checkWellFormed(svg);
    expect(dataValues(svg).sort((a, b) => a - b)).toEqual([-1.25, 0, 2.5, 3.417, 7]);
    expect(svg).toContain('misses &lt;per&gt; &quot;1k&quot; &amp; more');
    for (const n of ['page', 'pack-2m', 'neg', 'x86_64', 'arm64', 'iTLB / 1k']) expect(svg).toContain(`>${n}</text>`);
    expect((svg.match(/<rect [^>]*data-series="pack-2m"/g) ?? []).length).toBe(1);
  });

  it('a line chart (log x) is well-formed, has one point per finite datum and ticks per decade', () => {
    const svg = lineChartSvg({
      title: 'cycles',
      xLabel: 'nodes',
      yLabel: 'cycles / lookup',
      logX: true,
      series: [
        { name: 'colocated', points: [{ x: 1, y: 23.4 }, { x: 100, y: 501.9 }, { x: 10000, y: 1143.5 }] },
        { name: 'generic', points: [{ x: 1, y: 85.4 }, { x: 100, y: Number.NaN }] },
      ],
    });
    checkWellFormed(svg);
    expect(dataValues(svg)).toEqual([23.4, 501.9, 1143.5, 85.4]);
    for (const t of ['>1</text>', '>10</text>', '>100</text>', '>1000</text>', '>10000</text>', 'nodes (log scale)']) expect(svg).toContain(t);
    expect(() => lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', logX: true, series: [{ name: 's', points: [{ x: 0, y: 1 }] }] })).toThrow(/positive x/);
  });

  it('mismatched bar data is refused; stacked charts stay one well-formed document', () => {
    expect(() => barChartSvg({ title: 't', yLabel: 'y', groups: ['a', 'b'], series: [{ name: 's', values: [1] }] })).toThrow(/1 values for 2 groups/);
    const a = barChartSvg({ title: 'a', yLabel: 'y', groups: ['g'], series: [{ name: 's', values: [1] }] });
    const b = barChartSvg({ title: 'b', yLabel: 'y', groups: ['g'], series: [{ name: 's', values: [2] }] });
    const both = stackSvg([a, b]);
    checkWellFormed(both);
    expect(dataValues(both)).toEqual([1, 2]);
    expect(both).toContain('height="840"');
  });

  it('the checker itself rejects broken documents', () => {
    expect(() => checkWellFormed('<svg><g></svg>')).toThrow();
    expect(() => checkWellFormed('<svg><text>a < b</text></svg>')).toThrow();
    expect(() => checkWellFormed('<svg a=b></svg>')).toThrow();
    expect(() => checkWellFormed('<svg/><svg/>')).toThrow();
  });
});

describe('tables', () => {
  const t: Table = { title: 'T|1', columns: ['mode', 'cycles', 'ratio'], rows: [['a<b', 12, 0.5], ['c', 1234.5678, null]], notes: ['note'] };
  it('text aligns columns and prints n/a for missing cells', () => {
    const lines = renderText(t).split('\n');
    expect(lines[0]).toBe('T|1');
    expect(lines[1]).toMatch(/^mode\s+cycles\s+ratio$/);
    expect(lines[3]).toMatch(/^a<b\s+12\s+0\.500$/);
    expect(lines[4]).toMatch(/^c\s+1234\.6\s+n\/a$/);
    expect(lines[5]).toBe('  note');
  });
  it('markdown escapes pipes and right-aligns numeric columns; HTML escapes cells', () => {
    const md = renderMarkdown(t);
    expect(md).toContain('### T\\|1');
    expect(md).toContain('| --- | ---: | ---: |');
    const html = renderHtml(t);
    expect(html).toContain('<td>a&lt;b</td>');
    expect(html).toContain('<td class="num">1234.6</td>');
  });
});
