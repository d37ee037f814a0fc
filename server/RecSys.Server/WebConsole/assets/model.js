// The model view: what is serving, its settings and holdout metrics, NDCG@10 across the stored
// versions, and (with the admin token) promote and rollback.
import { call, reason, hasToken } from './api.js';
import { el, show, note, table, formatNumber, formatTime, isCurrent, beginView } from './dom.js';
import { lineChart } from './charts.js';

export async function model() {
  const view = beginView();
  show(el('p', { class: 'muted', text: 'Loading the model…' }));
  const [described, stored] = await Promise.all([call('/model'), call('/model/versions')]);
  if (!isCurrent(view)) return;
  if (!described.ok) {
    show(note(`Could not read /model: ${reason(described)}`, 'error'));
    return;
  }
  const m = described.body;
  const status = el('p', { id: 'admin-status', class: 'note', role: 'status' });
  show(
    el('section', { class: 'panel', id: 'serving' },
      el('h2', {}, 'Serving ', el('span', { class: 'subject', text: m.version ?? 'no model (legacy answers)' })),
      table(['', ''], [
        ['trained', formatTime(m.trained_at)], ['loaded', formatTime(m.loaded_at)], ['source', m.source ?? '–'],
        ['users', formatNumber(m.users)], ['tracks', formatNumber(m.items)], ['factors', formatNumber(m.factors)],
        ['interactions', formatNumber(m.interactions)],
      ], { class: 'facts' })),
    el('section', { class: 'panel', id: 'metrics' }, el('h2', { text: 'Holdout metrics' }), metricsTable(m.metrics)),
    el('section', { class: 'panel', id: 'parameters' }, el('h2', { text: 'Training parameters' }), parametersTable(m.parameters)),
    el('section', { class: 'panel', id: 'versions' },
      el('h2', { text: 'Versions' }),
      stored.ok ? versions(stored.body, status) : note(`Could not read /model/versions: ${reason(stored)}`, 'error'),
      status));
}

function metricsTable(metrics) {
  if (!metrics) return note('This version has no holdout metrics (imported, or trained without evaluation).');
  const popularity = metrics.popularity ?? {};
  const rows = Object.entries(metrics).filter(([, v]) => typeof v === 'number')
    .map(([key, value]) => [key, formatNumber(value), formatNumber(popularity[key])]);
  return table(['metric', 'model', 'popularity'], rows, { class: 'metrics' });
}

function parametersTable(parameters) {
  if (!parameters || typeof parameters !== 'object') return note('No parameters recorded.');
  return table(['setting', 'value'], Object.entries(parameters).map(([k, v]) => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : formatNumber(v)]), { class: 'facts' });
}

function versions(body, status) {
  const list = body.versions ?? [];
  const points = list.map(v => ({
    label: v.version, short: v.version.slice(4, 8) + ' ' + v.version.slice(9, 13), value: v.metrics?.['ndcg@10'], highlight: v.serving,
  }));
  const serving = list.find(v => v.serving);
  const chart = lineChart(points, {
    label: 'NDCG@10 of each stored version',
    reference: serving?.metrics?.popularity?.['ndcg@10'], referenceLabel: 'popularity (serving version\'s holdout)',
  });
  const rows = list.slice().reverse().map(v => [
    el('code', { text: v.version }),
    formatTime(v.trained_at),
    formatNumber(v.metrics?.['ndcg@10']),
    state(v),
    v.serving ? '' : el('button', { type: 'button', class: 'promote admin', 'data-version': v.version, text: 'Promote', onclick: () => act(`/admin/models/${encodeURIComponent(v.version)}/promote`, `promote ${v.version}`, status) }),
  ]);
  const target = body.rollback_target;
  return el('div', {},
    el('h3', { text: 'NDCG@10 across versions' }), chart,
    el('div', { class: 'actions' },
      target
        ? el('button', { type: 'button', id: 'rollback', class: 'admin', 'data-version': target, text: `Roll back to ${target}`,
          onclick: () => act(`/admin/models/rollback?to=${encodeURIComponent(target)}`, `roll back to ${target}`, status) })
        : el('span', { class: 'muted', text: 'No earlier promoted version to roll back to.' })),
    table(['version', 'trained', 'NDCG@10', 'state', ''], rows, { class: 'versions' }));
}

function state(v) {
  const parts = [];
  if (v.serving) parts.push('serving');
  if (v.current && !v.serving) parts.push('current (not loaded)');
  if (v.promoted && !v.serving && !v.current) parts.push('promoted before');
  if (!v.promoted) parts.push('candidate');
  if (v.broken) parts.push(`broken: ${v.broken}`);
  if (v.manifest_error) parts.push(`unreadable manifest: ${v.manifest_error}`);
  return parts.join(', ');
}

async function act(path, what, status) {
  status.className = 'note';
  status.textContent = `${what}… (loading a version can take a while)`;
  // One change at a time: a second click while one loads would ask for another change.
  const buttons = [...document.querySelectorAll('#versions button.admin')];
  for (const b of buttons) b.disabled = true;
  // Sent with or without a token: the server decides, the page shows its answer.
  const result = await call(path, { method: 'POST', admin: true });
  for (const b of buttons) b.disabled = false;
  if (result.ok) {
    status.className = 'note ok';
    status.textContent = result.body.message ?? 'done';
    setTimeout(() => { if (location.hash === '#/model' && status.isConnected) model(); }, 600);
    return;
  }
  status.className = 'note error';
  status.textContent = result.status === 401
    ? `Refused: ${what} needs the admin token${hasToken() ? ' (the one entered was not accepted)' : ' (enter it at the top)'}.`
    : result.status === 404 ? `Refused: this server has no admin API (RecSys:AdminToken is not set).` : `Refused: ${reason(result)}`;
}
