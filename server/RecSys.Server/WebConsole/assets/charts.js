// Small SVG charts drawn from numbers (no chart library: two charts do not earn a dependency).
import { svg } from './dom.js';

/** A line of one value per point (NDCG@10 per version), with an optional dashed reference line. */
export function lineChart(points, { label, reference, referenceLabel, width = 640, height = 220 } = {}) {
  const pad = { left: 52, right: 16, top: 16, bottom: 40 };
  const values = points.map(p => p.value).concat(reference ?? []).filter(v => typeof v === 'number');
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': label });
  if (values.length === 0) return chart;
  let low = Math.min(...values), high = Math.max(...values);
  if (high - low < 1e-6) { low -= 0.01; high += 0.01; }
  const margin = (high - low) * 0.1;
  low = Math.max(0, low - margin); high += margin;
  const x = i => pad.left + (points.length === 1 ? (width - pad.left - pad.right) / 2 : i * (width - pad.left - pad.right) / (points.length - 1));
  const y = v => pad.top + (high - v) * (height - pad.top - pad.bottom) / (high - low);
  for (let k = 0; k <= 4; k++) {
    const v = low + (high - low) * k / 4;
    chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: 'grid-line' }),
      svg('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis', text: v.toFixed(3) }));
  }
  if (typeof reference === 'number') {
    chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(reference), y2: y(reference), class: 'reference' }),
      svg('text', { x: width - pad.right, y: y(reference) - 4, 'text-anchor': 'end', class: 'axis', text: referenceLabel ?? '' }));
  }
  const known = points.map((p, i) => ({ ...p, i })).filter(p => typeof p.value === 'number');
  chart.append(svg('polyline', { points: known.map(p => `${x(p.i)},${y(p.value)}`).join(' '), class: 'series' }));
  for (const p of known) {
    chart.append(svg('circle', { cx: x(p.i), cy: y(p.value), r: p.highlight ? 6 : 4, class: p.highlight ? 'point serving' : 'point' },
      svg('title', { text: `${p.label}: ${p.value.toFixed(4)}` })));
  }
  points.forEach((p, i) => {
    chart.append(svg('text', { x: x(i), y: height - pad.bottom + 16, 'text-anchor': 'middle', class: 'axis', text: p.short ?? p.label }));
  });
  return chart;
}

/** Lifts with their confidence intervals around zero, one row per arm (an experiment's metric). */
export function liftChart(rows, { label, width = 640 } = {}) {
  const rowHeight = 30, pad = { left: 120, right: 20, top: 10, bottom: 26 };
  const height = pad.top + pad.bottom + rowHeight * Math.max(1, rows.length);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': label });
  const ends = rows.flatMap(r => [r.low, r.high, r.lift]).filter(v => typeof v === 'number' && Number.isFinite(v));
  const extent = Math.max(0.05, ...ends.map(Math.abs)) * 1.1;
  const x = v => pad.left + (v + extent) * (width - pad.left - pad.right) / (2 * extent);
  chart.append(svg('line', { x1: x(0), x2: x(0), y1: pad.top, y2: height - pad.bottom, class: 'reference' }));
  for (const v of [-extent, -extent / 2, 0, extent / 2, extent]) {
    chart.append(svg('text', { x: x(v), y: height - 8, 'text-anchor': 'middle', class: 'axis', text: `${(v * 100).toFixed(0)}%` }));
  }
  rows.forEach((r, i) => {
    const cy = pad.top + rowHeight * i + rowHeight / 2;
    chart.append(svg('text', { x: pad.left - 8, y: cy + 4, 'text-anchor': 'end', class: 'axis', text: r.name }));
    if (typeof r.low === 'number' && typeof r.high === 'number') {
      chart.append(svg('line', { x1: x(r.low), x2: x(r.high), y1: cy, y2: cy, class: r.low > 0 ? 'interval up' : r.high < 0 ? 'interval down' : 'interval' }));
    }
    if (typeof r.lift === 'number') {
      chart.append(svg('circle', { cx: x(r.lift), cy, r: 5, class: 'point' },
        svg('title', { text: `${r.name}: ${(r.lift * 100).toFixed(2)}% (${fmt(r.low)} … ${fmt(r.high)})` })));
    }
  });
  return chart;
}

function fmt(v) {
  return typeof v === 'number' ? `${(v * 100).toFixed(2)}%` : '–';
}
