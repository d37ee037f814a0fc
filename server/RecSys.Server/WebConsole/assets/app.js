// The console's router: the address names the view (#/user/{id}, #/track/{id}, #/model,
// #/experiments, #/health; /?user={id} opens a listener too), so every view can be linked and reloaded.
import { setToken, hasToken } from './api.js';
import { listener, randomListener, trackPage } from './listener.js';
import { model } from './model.js';
import { experiments } from './experiments.js';
import { health, leaveHealth } from './health.js';
import { show, note, beginView } from './dom.js';

const routes = [
  [/^#\/user\/(\d+)$/, id => listener(id), 'listener'],
  [/^#\/track\/(\d+)$/, id => trackPage(id), 'listener'],
  [/^#\/model$/, () => model(), 'model'],
  [/^#\/experiments$/, () => experiments(), 'experiments'],
  [/^#\/health$/, () => health(), 'health'],
  [/^(#\/?)?$/, () => randomListener(), 'listener'],
];

async function route() {
  leaveHealth();
  beginView();
  const hash = location.hash;
  for (const [pattern, render, view] of routes) {
    const match = pattern.exec(hash);
    if (!match) continue;
    for (const link of document.querySelectorAll('nav a')) {
      if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    try {
      await render(match[1]);
    } catch (e) {
      // An answer of an unexpected shape: say so rather than leave "Loading…" on screen.
      show(note(`This view failed: ${e.message}`, 'error'));
    }
    return;
  }
  show(note('No such view. Try Listener, Model, Experiments or Health above.', 'error'));
}

function start() {
  const form = document.getElementById('token-form');
  const input = document.getElementById('token');
  const state = document.getElementById('token-state');
  form.addEventListener('submit', e => {
    e.preventDefault();
    setToken(input.value);
    input.value = '';
    state.textContent = hasToken() ? 'set (this page only)' : 'none';
    // The views that show more with the token (plays, admin buttons, experiments) draw again.
    if (!/^#\/health$/.test(location.hash)) route();
  });
  // /?user=123 is the shareable form of #/user/123 (a link a chat client will not cut at '#').
  const user = new URLSearchParams(location.search).get('user');
  if (user && /^\d+$/.test(user) && !location.hash) history.replaceState(null, '', `/#/user/${user}`);
  window.addEventListener('hashchange', route);
  route();
}

start();
