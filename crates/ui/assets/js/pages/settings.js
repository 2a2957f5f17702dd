// /ui/setting: log in with a token (kept in localStorage, checked against
// /v1/acl/token/self), log out, and turn blocking queries on or off.

import { html, useState } from '../../vendor/preact-htm.js';
import { request } from '../api.js';
import { ErrorMessage } from '../components.js';
import { blockingEnabled, saveBlocking, saveToken, token } from '../settings.js';

export function SettingsPage() {
  const [secret, setSecret] = useState('');
  const [error, setError] = useState(null);
  const [, redraw] = useState(0);
  const current = token();
  const login = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      const { body } = await request('/v1/acl/token/self', { headers: { 'X-Consul-Token': secret.trim() } });
      saveToken({ AccessorID: body.AccessorID, SecretID: body.SecretID || secret.trim() });
      setSecret('');
    } catch (failure) {
      // With ACLs off there is nothing to check: keep the token for when they are on.
      if (failure.status === 401) {
        saveToken({ AccessorID: '', SecretID: secret.trim() });
        setSecret('');
      } else setError(failure);
    }
    redraw((n) => n + 1);
  };
  return html`<section>
    <h1 tabindex="-1">Settings</h1>
    <h2>Token</h2>
    ${current
      ? html`<dl class="facts" data-test="current-token"><dt>AccessorID</dt><dd><code>${current.AccessorID || '(unknown)'}</code></dd>
          <dt>SecretID</dt><dd><code>${current.SecretID.slice(0, 8)}…</code></dd></dl>
        <button type="button" data-test="logout" onClick=${() => { saveToken(null); redraw((n) => n + 1); }}>Log out</button>`
      : html`<p>The UI sends no token: requests use the agent's default token.</p>`}
    <form class="editor" onSubmit=${login}>
      <label>SecretID of a token
        <input type="password" autocomplete="off" value=${secret} onInput=${(event) => setSecret(event.target.value)} data-test="token-input" required /></label>
      <${ErrorMessage} error=${error} />
      <div class="actions"><button type="submit" class="primary" data-test="login">Log in</button></div>
    </form>
    <h2>Blocking queries</h2>
    <label class="inline"><input type="checkbox" checked=${blockingEnabled()} data-test="blocking-toggle"
      onChange=${(event) => { saveBlocking(event.target.checked); redraw((n) => n + 1); }} />
      Keep catalog information up to date without refreshing the page (blocking queries).</label>
  </section>`;
}
