// DOM building without HTML parsing: every text from the API goes in as a text node or an attribute
// value, never as markup (titles and ids may contain '<script>').

/** An element with attributes, listeners (on…) and children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element (charts). */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (key === 'text') node.textContent = String(value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

let view = 0;

/** Starts a new view (the router, on every address change): earlier views' late answers are then dropped. */
export function beginView() {
  return ++view;
}

/** Whether the view started as <token> is still the one on screen (after an await, before drawing). */
export function isCurrent(token) {
  return token === view;
}

/** Replaces the view's content. */
export function show(...children) {
  const view = document.getElementById('view');
  view.replaceChildren();
  append(view, children);
  return view;
}

/** A one-line message (error, note) for a place in the page. */
export function note(text, kind = 'muted') {
  return el('p', { class: `note ${kind}`, role: kind === 'error' ? 'alert' : null, text });
}

export function formatNumber(value, digits = 4) {
  if (value === null || value === undefined) return '–';
  if (typeof value !== 'number') return String(value);
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(digits);
}

export function formatTime(iso) {
  if (!iso) return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** A table from rows of cells (strings or nodes); the first row is the header. */
export function table(header, rows, attrs = {}) {
  return el('div', { class: 'table-wrap' },
    el('table', attrs,
      el('thead', {}, el('tr', {}, header.map(h => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows.map(r => el('tr', {}, r.map(c => el('td', {}, c)))))));
}
