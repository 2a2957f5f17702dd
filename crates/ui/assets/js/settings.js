// The browser-side settings, kept in localStorage under Consul UI's own keys so a
// token saved by either UI works in the other: `consul:token` holds
// {AccessorID, SecretID} and `consul:client` holds {blocking}.

const TOKEN = 'consul:token';
const CLIENT = 'consul:client';

function read(key, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(key));
    return value && typeof value === 'object' ? value : fallback;
  } catch (_) {
    return fallback;
  }
}

const listeners = new Set();

/** Calls `listener` whenever the token or the blocking setting changes. */
export function onSettingsChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed() {
  for (const listener of listeners) listener();
}

/** The saved token ({AccessorID, SecretID}) or null. */
export function token() {
  const saved = read(TOKEN, null);
  return saved && saved.SecretID ? saved : null;
}

export function saveToken(saved) {
  if (saved) localStorage.setItem(TOKEN, JSON.stringify({ AccessorID: saved.AccessorID, SecretID: saved.SecretID }));
  else localStorage.removeItem(TOKEN);
  changed();
}

/** Whether views keep themselves current with blocking queries (default on). */
export function blockingEnabled() {
  return read(CLIENT, {}).blocking !== false;
}

export function saveBlocking(on) {
  localStorage.setItem(CLIENT, JSON.stringify({ ...read(CLIENT, {}), blocking: !!on }));
  changed();
}

// Another tab logged in or out: follow it.
window.addEventListener('storage', (event) => {
  if (event.key === TOKEN || event.key === CLIENT) changed();
});
