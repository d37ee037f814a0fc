// The listener view: a user's recommendations, their plays, and a track's similar tracks.
import { call, reason } from './api.js';
import { el, show, note, isCurrent, beginView } from './dom.js';
import { trackCard, playRow } from './cards.js';

const PageSize = 20;

/** #/ with no listener: a random one, so the first visit shows recommendations at once. */
export async function randomListener() {
  const view = beginView();
  show(el('p', { class: 'muted', text: 'Picking a listener…' }));
  const result = await call('/users/random');
  if (!isCurrent(view)) return;
  if (result.ok) location.replace(`#/user/${result.body.user_id}`);
  else show(picker(''), note(`No listener to show: ${reason(result)}`, 'error'));
}

function picker(current) {
  const input = el('input', { id: 'user-id', name: 'user', inputmode: 'numeric', pattern: '[0-9]+', value: current, 'aria-label': 'Listener id', placeholder: 'listener id' });
  const form = el('form', { class: 'picker', id: 'user-form' },
    el('label', { for: 'user-id', text: 'Listener' }), input,
    el('button', { type: 'submit', text: 'Show' }),
    el('button', { type: 'button', id: 'random-user', text: 'Random listener', onclick: async () => {
      const result = await call('/users/random');
      if (result.ok) location.hash = `#/user/${result.body.user_id}`;
    } }));
  form.addEventListener('submit', e => {
    e.preventDefault();
    const id = input.value.trim();
    if (/^\d+$/.test(id)) {
      location.hash = `#/user/${id}`;
    } else {
      input.setCustomValidity('a listener id is a whole number');
      input.reportValidity();
    }
  });
  input.addEventListener('input', () => input.setCustomValidity(''));
  return form;
}

export async function listener(userId) {
  const view = beginView();
  const similar = el('section', { id: 'similar', class: 'panel', hidden: true });
  const recommendations = el('section', { id: 'recommendations', class: 'panel' }, el('p', { class: 'muted', text: 'Loading recommendations…' }));
  const plays = el('section', { id: 'plays', class: 'panel' }, el('p', { class: 'muted', text: 'Loading plays…' }));
  show(picker(userId), similar, recommendations, plays);
  const pick = track => showSimilar(similar, track);
  await Promise.all([renderRecommendations(recommendations, userId, pick, view), renderPlays(plays, userId, 0, pick, view)]);
}

async function renderRecommendations(section, userId, pick, view) {
  // The preview header: looking at a listener is not the listener seeing recommendations (no exposure is recorded).
  const result = await call(`/recommend/user/${userId}/ml?limit=20`, { headers: { 'X-Recommendation-Preview': '1' } });
  if (!isCurrent(view)) return;
  if (!result.ok) {
    section.replaceChildren(el('h2', { text: 'Recommendations' }), note(reason(result), 'error'));
    return;
  }
  const source = result.headers.get('X-Recommendation-Source');
  const experiment = result.headers.get('X-Experiment');
  const arm = result.headers.get('X-Arm');
  section.replaceChildren(
    el('h2', {}, `Recommendations for listener ${userId}`),
    el('p', { class: 'muted' },
      `${result.body.length} tracks from `, el('strong', { text: source ?? 'unknown' }),
      experiment ? ` · experiment ${experiment}, arm ${arm}` : '',
      ' · select a track for similar tracks'),
    result.body.length === 0
      ? note('Nothing to recommend: the listener has heard every track the model knows.')
      : el('div', { class: 'grid' }, result.body.map(t => trackCard(t, { source, arm, onPick: pick }))));
}

async function renderPlays(section, userId, offset, pick, view) {
  // A listener's history is personal: the server wants the admin token (or, without one, a local client).
  const result = await call(`/users/${userId}/plays?limit=${PageSize}&offset=${offset}`, { admin: true });
  if (!isCurrent(view)) return;
  if (!result.ok) {
    const text = result.status === 401 ? 'A listener\'s plays need the admin token: enter it at the top.' : reason(result);
    section.replaceChildren(el('h2', { text: 'Qualified plays' }), note(text, result.status === 401 ? 'muted' : 'error'));
    return;
  }
  const page = result.body;
  const from = page.plays.length === 0 ? 0 : offset + 1;
  const to = offset + page.plays.length;
  const sourceText = {
    model: 'the plays the model was trained on, after those since its training',
    database: 'the database (the model does not know this listener)',
    events: 'play events since the model was trained',
    none: 'nowhere: neither the model nor the database has plays of this listener',
  }[page.source] ?? page.source;
  section.replaceChildren(
    el('h2', { text: 'Qualified plays' }),
    el('p', { class: 'muted', text: `${from}–${to} of ${page.total}, from ${sourceText}` }),
    el('ol', { class: 'plays', start: from }, page.plays.map(p => playRow(p, pick))),
    el('div', { class: 'pager' },
      el('button', { type: 'button', text: '← Newer', disabled: offset === 0, onclick: () => renderPlays(section, userId, Math.max(0, offset - PageSize), pick, view) }),
      el('button', { type: 'button', text: 'Older →', disabled: to >= page.total, onclick: () => renderPlays(section, userId, offset + PageSize, pick, view) })));
}

/** Similar tracks in a panel (the listener view) or as the page (#/track/{id}). */
export async function showSimilar(section, track) {
  // Two quick picks: only the last one's answer is drawn.
  const asked = (section.dataset.asked = String(Number(section.dataset.asked ?? 0) + 1));
  section.hidden = false;
  const name = track.title ? `${track.title}${track.artist_name ? ` by ${track.artist_name}` : ''}` : `track ${track.track_id}`;
  section.replaceChildren(el('h2', {}, 'Similar to ', el('span', { class: 'subject', text: name })), el('p', { class: 'muted', text: 'Loading…' }));
  section.scrollIntoView({ block: 'start' });
  const result = await call(`/recommend/similar/${track.track_id}?limit=12`);
  if (section.dataset.asked !== asked || !section.isConnected) return;
  const body = result.ok
    ? el('div', { class: 'grid' }, result.body.map(t => trackCard(t, { onPick: next => showSimilar(section, next) })))
    : note(reason(result), 'error');
  section.replaceChildren(
    el('h2', {}, 'Similar to ', el('span', { class: 'subject', text: name })),
    el('p', { class: 'muted' }, 'Cosine similarity of the model\'s track factors · ', el('a', { href: `#/track/${track.track_id}`, text: 'link to this list' })),
    body);
}

export async function trackPage(trackId) {
  const section = el('section', { id: 'similar', class: 'panel' });
  show(section);
  await showSimilar(section, { track_id: trackId });
}
