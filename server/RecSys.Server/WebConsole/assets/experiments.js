// The experiments view (admin API): each experiment's arms, their metrics and lifts with confidence
// intervals, and the sample-ratio-mismatch check.
import { call, reason, hasToken } from './api.js';
import { el, show, note, table, formatNumber, formatTime, isCurrent, beginView } from './dom.js';
import { liftChart } from './charts.js';

export async function experiments() {
  if (!hasToken()) {
    show(el('h2', { text: 'Experiments' }), note('The experiments API is admin-only: enter the admin token at the top to see them.'));
    return;
  }
  const view = beginView();
  show(el('p', { class: 'muted', text: 'Loading experiments…' }));
  const listed = await call('/admin/experiments', { admin: true });
  if (!isCurrent(view)) return;
  if (!listed.ok) {
    show(el('h2', { text: 'Experiments' }), note(listed.status === 401 ? 'The admin token was not accepted.' : reason(listed), 'error'));
    return;
  }
  const all = listed.body.experiments ?? [];
  // Reports join exposures with plays: running experiments' at once, one at a time; the others on request.
  const sections = [];
  for (const e of all) {
    if (e.status === 'running') sections.push(experiment(e, await call(`/admin/experiments/${encodeURIComponent(e.id)}/report`, { admin: true })));
    else sections.push(onRequest(e));
    if (!isCurrent(view)) return;
  }
  show(el('h2', { text: 'Experiments' }),
    all.length === 0 ? note('No experiments yet: `./recsys ab start …` or POST /admin/experiments creates one.') : sections);
}

function onRequest(definition) {
  const section = el('section', { class: 'panel experiment', 'data-experiment': definition.id },
    el('h3', {}, el('span', { class: 'subject', text: definition.id }), ' ',
      el('span', { class: `badge status-${definition.status}`, text: definition.status })));
  section.append(el('button', { type: 'button', text: 'Show the report', onclick: async () => {
    const report = await call(`/admin/experiments/${encodeURIComponent(definition.id)}/report`, { admin: true });
    if (section.isConnected) section.replaceWith(experiment(definition, report));
  } }));
  return section;
}

function experiment(definition, report) {
  const section = el('section', { class: 'panel experiment', 'data-experiment': definition.id },
    el('h3', {}, el('span', { class: 'subject', text: definition.id }), ' ',
      el('span', { class: `badge status-${definition.status}`, text: definition.status })));
  if (!report.ok) {
    section.append(note(`No report: ${reason(report)}`, 'error'));
    return section;
  }
  const r = report.body;
  section.append(el('p', { class: 'muted', text: `from ${formatTime(r.start)} to ${r.stop ? formatTime(r.stop) : 'now'} · plays from ${r.plays_source ?? '–'} · ${Math.round((r.confidence ?? 0.95) * 100)}% intervals` }));
  if (r.srm_detected) {
    section.append(note(`Sample ratio mismatch (p = ${formatNumber(r.srm_p_value, 5)}): the arms did not get the users their weights promise; do not trust the lifts until the assignment is fixed.`, 'error'));
  } else if (r.srm_p_value !== null && r.srm_p_value !== undefined) {
    section.append(note(`Sample ratio check passed (p = ${formatNumber(r.srm_p_value, 3)}).`, 'ok'));
  }
  const arms = r.arms ?? [];
  const metricNames = [...new Set(arms.flatMap(a => Object.keys(a.metrics ?? {})))];
  section.append(table(['arm', 'strategy', 'weight', 'users', 'exposures', 'plays from recs', ...metricNames.map(m => `${m.replaceAll('_', ' ')} (mean)`)],
    arms.map(a => [a.control && a.name !== 'control' ? `${a.name} (control)` : a.name, a.strategy, formatNumber(a.weight, 2), formatNumber(a.users), formatNumber(a.exposures),
      formatNumber(a.plays_from_recommendations), ...metricNames.map(m => formatNumber(a.metrics?.[m]?.mean))]), { class: 'arms' }));
  for (const metric of metricNames) {
    const rows = arms.filter(a => !a.control).map(a => ({ name: a.name, lift: a.metrics?.[metric]?.lift, low: a.metrics?.[metric]?.ci_low, high: a.metrics?.[metric]?.ci_high }));
    if (rows.length === 0) continue;
    if (rows.every(r => typeof r.lift !== 'number')) {
      section.append(el('h4', { text: `${metric.replaceAll('_', ' ')}: lift against control` }), note('No lift to show: the control arm has no users or a mean of zero.'));
      continue;
    }
    section.append(el('h4', { text: `${metric.replaceAll('_', ' ')}: lift against control` }), liftChart(rows, { label: `${metric} lift with confidence interval` }));
  }
  return section;
}
