// A track as a card (recommendations, similar tracks) or a row (plays): cover, title, artist.
import { el, formatNumber } from './dom.js';

/** A cover: the image when the catalog has an http(s) one, over a tile coloured from the album. */
function cover(track, size) {
  const seed = Number(track.album_id ?? track.track_id ?? 0);
  const tile = el('div', { class: `cover ${size}`, 'aria-hidden': 'true' },
    el('span', { class: 'initials', text: initials(track.title ?? `#${track.track_id}`) }));
  // CSSOM, not a style attribute: the page's policy allows no inline style markup.
  tile.style.setProperty('--hue', String((seed * 47) % 360));
  const url = track.cover_url;
  if (typeof url === 'string' && /^https?:\/\//i.test(url)) {
    const image = el('img', { src: url, alt: '', decoding: 'async', referrerpolicy: 'no-referrer' });
    image.addEventListener('error', () => image.remove());
    tile.append(image);
  }
  return tile;
}

function initials(title) {
  const words = String(title).split(/\s+/).filter(w => /\w/.test(w));
  return words.slice(0, 2).map(w => w.replace(/^\W+/, '')[0] ?? '').join('').toUpperCase() || '♪';
}

function describe(track) {
  return `${track.title ?? `Track ${track.track_id}`} by ${track.artist_name ?? 'unknown artist'}`;
}

/** A recommended or similar track; activating it calls onPick(track). */
export function trackCard(track, { source, arm, onPick } = {}) {
  const card = el('article', {
    class: 'card', 'data-track-id': track.track_id, tabindex: 0, role: 'button',
    'aria-label': `${describe(track)}: show similar tracks`,
  },
  cover(track, 'large'),
  el('h3', { class: 'title', text: track.title ?? `Track ${track.track_id}` }),
  el('p', { class: 'artist', text: track.artist_name ?? 'unknown artist' }),
  el('p', { class: 'meta' },
    el('span', { class: 'score', title: 'score', text: typeof track.score === 'number' ? track.score.toPrecision(4) : '–' }),
    source ? el('span', { class: `badge source-${source}`, text: source }) : null,
    arm ? el('span', { class: 'badge arm', title: 'experiment arm', text: `arm ${arm}` }) : null));
  if (onPick) {
    card.addEventListener('click', () => onPick(track));
    card.addEventListener('keydown', e => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        onPick(track);
      }
    });
  }
  return card;
}

/** A play in a listener's history. */
export function playRow(play, onPick) {
  const row = el('li', { class: 'play', 'data-track-id': play.track_id },
    cover(play, 'small'),
    el('div', { class: 'play-text' },
      el('button', { type: 'button', class: 'link title', text: play.title ?? `Track ${play.track_id}`, onclick: () => onPick(play) }),
      el('span', { class: 'artist', text: play.artist_name ?? 'unknown artist' })),
    el('span', { class: 'plays', title: 'qualified plays', text: `${formatNumber(play.plays, 1)}×` }),
    play.since_training ? el('span', { class: 'badge recent', title: 'played since the model was trained', text: 'new' }) : null);
  return row;
}
