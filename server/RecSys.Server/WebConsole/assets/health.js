// The health view: readiness, training and its schedule, and request rate and latency per endpoint
// from the server's own Prometheus counters (two scrapes a few seconds apart).
import { call, reason } from './api.js';
import { el, show, note, table, formatNumber, formatTime } from './dom.js';

let previous = null;
let timer = null;

export function leaveHealth() {
  clearTimeout(timer);
  timer = null;
}

export async function health() {
  const [ready, described, metrics] = await Promise.all([call('/ready'), call('/model'), call('/metrics', { headers: { Accept: 'text/plain' } })]);
  if (!location.hash.startsWith('#/health')) return;
  const m = described.ok ? described.body : {};
  const training = m.training ?? {};
  const sample = metrics.ok ? parse(metrics.body) : null;
  show(
    el('section', { class: 'panel', id: 'readiness' },
      el('h2', { text: 'Readiness' }),
      ready.ok
        ? note(`Ready: serving ${ready.body.version}${ready.body.status === 'degraded' ? ` (degraded: ${ready.body.reason})` : ''}`, ready.body.status === 'degraded' ? 'error' : 'ok')
        : note(`Not ready: ${ready.body?.reason ?? reason(ready)}`, 'error'),
      m.last_reload ? el('p', { class: 'muted', text: `last load ${formatTime(m.last_reload.at)}: ${m.last_reload.message}` }) : null),
    el('section', { class: 'panel', id: 'training' },
      el('h2', { text: 'Training' }),
      table(['', ''], [
        ['running', training.running ? 'yes' : 'no'],
        ['schedule', training.schedule ? `${training.schedule} (${training.time_zone})` : 'none (trained only on request)'],
        ['next run', formatTime(training.next_run)],
        ['last run', training.last ? `${formatTime(training.last.finished_at)} · ${training.last.ok ? 'ok' : 'failed'} · ${training.last.message}` : '–'],
        ['last failure', training.last_error ? `${formatTime(training.last_error.finished_at)} · ${training.last_error.message}` : '–'],
      ], { class: 'facts' })),
    el('section', { class: 'panel', id: 'traffic' },
      el('h2', { text: 'Requests' }),
      sample ? traffic(sample) : note(`Could not read /metrics: ${reason(metrics)}`, 'error')));
  if (sample) previous = sample;
  clearTimeout(timer);
  // Not while the tab is hidden: nobody is looking, and the scrapes would count as traffic.
  timer = setTimeout(function refresh() {
    if (document.hidden) timer = setTimeout(refresh, 5000);
    else health();
  }, 5000);
}

function traffic(sample) {
  const since = previous && sample.at > previous.at ? previous : null;
  const seconds = since ? (sample.at - since.at) / 1000 : null;
  const endpoints = [...sample.endpoints.keys()].sort();
  const rows = endpoints.map(name => {
    const now = sample.endpoints.get(name);
    const before = since?.endpoints.get(name);
    const window = before ? subtract(now, before) : now;
    return [el('code', { text: name }), formatNumber(now.count), seconds ? formatNumber(window.count / seconds, 1) : '…',
      quantile(window, 0.5), quantile(window, 0.99)];
  });
  return el('div', {},
    el('p', { class: 'muted', text: since ? `rate and latency over the last ${seconds.toFixed(1)} s; refreshed every 5 s` : 'latency since the server started; the rate appears at the next refresh (5 s)' }),
    table(['endpoint', 'requests', 'per second', 'p50', 'p99'], rows, { class: 'traffic' }));
}

/** Per endpoint: request count and cumulative latency buckets, from the Prometheus text format. */
export function parse(text) {
  const endpoints = new Map();
  const entry = name => endpoints.get(name) ?? endpoints.set(name, { count: 0, buckets: new Map() }).get(name);
  for (const line of text.split('\n')) {
    const match = /^(recsys_request_duration_seconds_bucket|recsys_requests_total)\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(l => [l[1], l[2]]));
    const value = Number(match[3]);
    if (!labels.endpoint || !Number.isFinite(value)) continue;
    if (match[1] === 'recsys_requests_total') entry(labels.endpoint).count += value;
    else entry(labels.endpoint).buckets.set(labels.le, value);
  }
  return { at: Date.now(), endpoints };
}

function subtract(now, before) {
  // Counters only grow: a smaller one means the server restarted, and the window starts at zero.
  if (now.count < before.count) return now;
  const buckets = new Map([...now.buckets].map(([le, n]) => [le, n - (before.buckets.get(le) ?? 0)]));
  return { count: now.count - before.count, buckets };
}

/** The upper bound of the bucket holding quantile q ("≤ 250 µs"): the histogram says no more. */
function quantile(entry, q) {
  const bounds = [...entry.buckets].map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), n]).sort((a, b) => a[0] - b[0]);
  const total = bounds.length ? bounds[bounds.length - 1][1] : 0;
  if (total <= 0) return '–';
  const found = bounds.find(([, n]) => n >= q * total);
  const le = found ? found[0] : Infinity;
  if (!Number.isFinite(le)) return '> 1 s';
  return le < 0.001 ? `≤ ${Math.round(le * 1e6)} µs` : `≤ ${formatNumber(le * 1000, le < 0.01 ? 1 : 0)} ms`;
}
