// The API reference: Swagger UI over /api/openapi.json. "Try it out" sends the access token of the
// session the pages keep (fleet-core.js, localStorage 'fleet.session'), read afresh for every
// request so a token the pages refreshed is used; a token pasted into Authorize wins over it.
const STORE = 'fleet.session';

function session() {
  try {
    const s = JSON.parse(localStorage.getItem(STORE));
    return s && s.access && s.expiresAt > Date.now() ? s : null;
  } catch {
    return null;
  }
}

const state = document.getElementById('login-state');
const s = session();
if (s) state.textContent = `Try it out sends requests as ${s.username} (${(s.scopes || []).join(', ')}).`;

const ui = SwaggerUIBundle({
  url: document.getElementById('ui').dataset.spec,
  dom_id: '#ui',
  deepLinking: true,
  tryItOutEnabled: false,
  persistAuthorization: false,
  requestInterceptor: (req) => {
    const current = session();
    const given = req.headers.Authorization || req.headers.authorization;
    if (current && !given) req.headers.Authorization = `Bearer ${current.access}`;
    return req;
  },
  onComplete: () => {
    const current = session();
    if (current) ui.preauthorizeApiKey('bearer', current.access);
  },
});
window.fleetApiDocs = ui;
