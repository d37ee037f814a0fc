// Calls to the server's JSON API. The admin token lives only in this module's memory: never in
// storage, a cookie or the address, so closing the tab forgets it.

let adminToken = null;

export function setToken(token) {
  adminToken = token && token.trim().length > 0 ? token.trim() : null;
}

export function hasToken() {
  return adminToken !== null;
}

/** { ok, status, headers, body } for any answer; a network failure is status 0 with a message. */
export async function call(path, { method = 'GET', admin = false, headers = {} } = {}) {
  const sent = { Accept: 'application/json', ...headers };
  if (admin && adminToken) sent.Authorization = `Bearer ${adminToken}`;
  let response;
  try {
    response = await fetch(path, { method, headers: sent, cache: 'no-store', credentials: 'same-origin' });
  } catch (e) {
    return { ok: false, status: 0, headers: new Headers(), body: { detail: `the server did not answer (${e.message})` } };
  }
  const type = response.headers.get('content-type') || '';
  const body = type.includes('json') ? await response.json().catch(() => null) : await response.text();
  return { ok: response.ok, status: response.status, headers: response.headers, body };
}

/** The reason a call failed, in words: the problem's detail when the server sent one. */
export function reason(result) {
  const body = result.body;
  if (body && typeof body === 'object') return body.detail || body.title || `HTTP ${result.status}`;
  return result.status === 0 ? 'the server did not answer' : `HTTP ${result.status}`;
}
