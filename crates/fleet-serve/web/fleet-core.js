// Fleet Platform pages: what every page shares. Pages stay short; everything else lives here.
//  - session: log in with the token API, keep the tokens, refresh before expiry, log out;
//  - api(): GET a JSON endpoint with the token (one retry after a refresh);
//  - the page frame (navigation, EAT clock, user, logout), KPI strips, SLO badges, tables,
//    filter bars, and the map (MapLibre GL, our offline basemap unless a style is configured);
//  - renderView(): the universal renderer of {summary, geojson, slo_status}.

const STORE = 'fleet.session';
export const TZ = 'Africa/Nairobi';

// ---------------------------------------------------------------------------------------------
// Session and API
// ---------------------------------------------------------------------------------------------
let session = load();
let refreshTimer = null;

function load() {
  try { return JSON.parse(localStorage.getItem(STORE)) || null; } catch { return null; }
}

function save(tokens, username) {
  session = {
    access: tokens.access_token,
    refresh: tokens.refresh_token,
    expiresAt: Date.now() + tokens.expires_in * 1000,
    username: username ?? session?.username,
    scopes: tokens.scopes || [],
  };
  localStorage.setItem(STORE, JSON.stringify(session));
  scheduleRefresh();
}

/** Whether the logged-in user has `scope` (pages hide what they may not do). */
export const can = (scope) => (session?.scopes || []).includes(scope);

export function logout() {
  session = null;
  localStorage.removeItem(STORE);
  clearTimeout(refreshTimer);
  location.reload();
}

async function tokenCall(body) {
  const r = await fetch('/api/auth/token', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error?.message || `login failed (${r.status})`);
  return j;
}

async function refresh() {
  if (!session?.refresh) return false;
  try {
    save(await tokenCall({ refresh_token: session.refresh }));
    return true;
  } catch {
    return false;
  }
}

// Refresh a minute before the access token expires (or at once when that is past).
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!session) return;
  const due = Math.max(0, session.expiresAt - Date.now() - 60_000);
  refreshTimer = setTimeout(async () => { if (!(await refresh())) showLogin(); }, due);
}

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// One authenticated request: logs in when nobody is, refreshes once on a 401.
async function request(method, url, body) {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (!session) await showLogin();
    const headers = { authorization: `Bearer ${session.access}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status === 401 && attempt === 0) {
      if (!(await refresh())) { session = null; }
      continue;
    }
    const j = await r.json().catch(() => null);
    if (!r.ok) throw new ApiError(r.status, j?.error?.message || `${url}: ${r.status}`);
    return j;
  }
  throw new ApiError(401, 'not logged in');
}

/** GET `path` (with `params` as the query) as JSON, with the token. */
export async function api(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  return request('GET', q.toString() ? `${path}?${q}` : path);
}

/**
 * An authenticated Server-Sent Events stream (read with fetch, so the token travels in a header as
 * on every call): `onEvent(name, data)` per event (data parsed as JSON). After a drop, or a `bye`
 * (token expired, server stopping), it reconnects with the current token and the last event id,
 * so the server can send what was missed. `close()` ends it.
 */
export function stream(path, params, onEvent) {
  let lastId = null;
  let closed = false;
  let ctrl = null;
  let delay = 1000;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  const url = q.toString() ? `${path}?${q}` : path;
  async function once() {
    if (!session) await showLogin();
    ctrl = new AbortController();
    const headers = { authorization: `Bearer ${session.access}`, accept: 'text/event-stream' };
    if (lastId) headers['last-event-id'] = lastId;
    const r = await fetch(url, { headers, signal: ctrl.signal, cache: 'no-store' });
    if (r.status === 401) {
      if (!(await refresh())) session = null;
      delay = 0;
      return;
    }
    if (!r.ok) {
      const j = await r.json().catch(() => null);
      throw new ApiError(r.status, j?.error?.message || `${path}: ${r.status}`);
    }
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    let ev = { id: null, name: 'message', data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (line === '') {
          if (ev.data.length) {
            if (ev.id !== null) lastId = ev.id;
            delay = ev.name === 'bye' ? 0 : 1000;
            onEvent(ev.name, JSON.parse(ev.data.join('\n')));
          }
          ev = { id: null, name: 'message', data: [] };
        } else if (!line.startsWith(':')) {
          const c = line.indexOf(':');
          const field = c < 0 ? line : line.slice(0, c);
          let v = c < 0 ? '' : line.slice(c + 1);
          if (v.startsWith(' ')) v = v.slice(1);
          if (field === 'id') ev.id = v;
          else if (field === 'event') ev.name = v;
          else if (field === 'data') ev.data.push(v);
        }
      }
    }
  }
  (async () => {
    while (!closed) {
      try {
        await once();
      } catch (e) {
        if (closed) return;
        onEvent('error', { message: e.message });
        delay = Math.min(Math.max(delay, 1000) * 2, 15_000);
      }
      if (closed) return;
      await new Promise((res) => setTimeout(res, delay));
    }
  })();
  return { close() { closed = true; ctrl?.abort(); } };
}

/** POST/PUT `body` as JSON to `path` with the token; the answer's JSON. */
export const send = (method, path, body) => request(method, path, body ?? {});

// The login form: resolves once logged in.
let loginWaiters = [];
export function showLogin() {
  let dlg = document.getElementById('login');
  if (!dlg) {
    dlg = document.createElement('dialog');
    dlg.id = 'login';
    dlg.innerHTML = `
      <form method="dialog" id="login-form">
        <h2>Fleet Platform</h2>
        <label>Username <input id="login-user" name="username" autocomplete="username" required></label>
        <label>Password <input id="login-password" name="password" type="password" autocomplete="current-password" required></label>
        <p id="login-error" role="alert" class="error" hidden></p>
        <button id="login-submit" type="submit">Log in</button>
      </form>`;
    document.body.append(dlg);
    dlg.addEventListener('cancel', (e) => e.preventDefault());
    dlg.querySelector('form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const user = dlg.querySelector('#login-user').value.trim();
      const err = dlg.querySelector('#login-error');
      err.hidden = true;
      try {
        save(await tokenCall({ username: user, password: dlg.querySelector('#login-password').value }), user);
        dlg.close();
        dlg.querySelector('#login-password').value = '';
        renderUser();
        const w = loginWaiters; loginWaiters = [];
        w.forEach((f) => f());
      } catch (ex) {
        err.textContent = ex.message;
        err.hidden = false;
      }
    });
  }
  if (!dlg.open) dlg.showModal();
  return new Promise((resolve) => loginWaiters.push(resolve));
}

// ---------------------------------------------------------------------------------------------
// Page frame
// ---------------------------------------------------------------------------------------------
const NAV = [['/live', 'Live'], ['/history', 'History'], ['/routes', 'Routes'], ['/fuel', 'Fuel log'], ['/ops', 'Operations']];

function renderUser() {
  const u = document.getElementById('user');
  if (u) u.textContent = session?.username || '';
}

/** Draws the header (navigation, EAT clock, user, logout) and makes sure someone is logged in. */
export async function startPage(active) {
  const top = document.getElementById('top');
  top.innerHTML = `
    <a class="brand" href="/live">Fleet</a>
    <nav>${NAV.map(([href, label]) =>
      `<a href="${href}"${href === active ? ' aria-current="page"' : ''}>${label}</a>`).join('')}</nav>
    <span class="spacer"></span>
    <time id="clock" title="East Africa Time"></time>
    <span id="user"></span>
    <button id="logout" type="button">Log out</button>`;
  top.querySelector('#logout').addEventListener('click', logout);
  const clock = top.querySelector('#clock');
  const tick = () => { clock.textContent = `${fmtTime(new Date())} EAT`; };
  tick();
  setInterval(tick, 1000);
  if (!session || session.expiresAt < Date.now() + 5_000) {
    if (!(await refresh())) { session = null; await showLogin(); }
  }
  scheduleRefresh();
  renderUser();
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------
const timeFmt = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, dateStyle: 'medium', timeStyle: 'short' });
export const fmtTime = (d) => timeFmt.format(d);
export const fmtDateTime = (d) => dateTimeFmt.format(typeof d === 'string' ? new Date(d) : d);
export const fmtNum = (n, digits = 0) =>
  n === null || n === undefined ? '–' : Number(n).toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const fmtKes = (n) => (n === null || n === undefined ? '–' : `KES ${fmtNum(n)}`);
export function fmtAge(s) {
  if (s === null || s === undefined) return '–';
  if (s < 1) return 'now';
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}
/** A duration in seconds, as people say it. */
export function fmtDuration(s) {
  if (s === null || s === undefined) return '–';
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}
/** Today in EAT as YYYY-MM-DD. */
export const todayLocal = () => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date());

/** The fleet's plate rule (serve.normalize_plate): upper case, letters and digits only. */
export const normalizePlate = (s) => (s || '').toUpperCase().replace(/[^A-Z0-9]/g, '');

export const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------
/** A KPI strip: items are [label, value, class?]. */
export function kpis(el, items) {
  el.innerHTML = items.map(([label, value, cls]) =>
    `<div class="kpi ${cls || ''}"><span class="kpi-value">${esc(value)}</span><span class="kpi-label">${esc(label)}</span></div>`).join('');
}

/** SLO badges from a view's slo_status: every SLO not met, or one green badge when all are. */
export function sloBadges(el, slo, summary) {
  const list = slo?.slos || [];
  const bad = list.filter((s) => s.status !== 'met');
  const items = [];
  if (summary?.below_freshness > 0) {
    items.push(['warn', `${summary.below_freshness} vehicle${summary.below_freshness === 1 ? '' : 's'} below freshness SLO`]);
  }
  for (const s of bad) items.push([s.status === 'not_met' ? 'bad' : 'unknown', `${s.metric}: ${s.status.replace('_', ' ')}`]);
  if (!items.length && list.length) items.push(['ok', `${list.length} SLOs met`]);
  el.innerHTML = items.map(([cls, t]) => `<span class="badge ${cls}">${esc(t)}</span>`).join('');
}

/** A table: columns are [label, row => html, class?]; rows replace the body. */
export function table(el, columns, rows, empty = 'Nothing to show') {
  el.innerHTML = `<table><thead><tr>${columns.map(([l, , c]) => `<th class="${c || ''}">${esc(l)}</th>`).join('')}</tr></thead>
    <tbody>${rows.length ? rows.map((r) => `<tr>${columns.map(([, f, c]) => `<td class="${c || ''}">${f(r)}</td>`).join('')}</tr>`).join('')
      : `<tr><td colspan="${columns.length}" class="empty">${esc(empty)}</td></tr>`}</tbody></table>`;
}

/**
 * A filter bar from /api/filters: selects for `keys` (accounts, cities, cost_centres, states,
 * departments, vehicles) plus any `extra` controls' HTML. Calls onChange(values) on a change.
 */
export async function filterBar(el, keys, onChange, extra = '') {
  const f = await api('/api/filters');
  const label = { accounts: 'Account', cities: 'City', cost_centres: 'Cost centre', states: 'State', departments: 'Department', vehicles: 'Vehicle' };
  el.innerHTML = extra + keys.filter((k) => Array.isArray(f[k])).map((k) => {
    const opts = f[k].map((v) => (typeof v === 'object'
      ? [v.plate_key ?? v.code ?? v.name, v.vehicle_number ?? v.name ?? v.code] : [v, v]));
    return `<label>${label[k] || k} <select data-key="${k}"><option value="">All</option>${opts.map(([v, t]) =>
      `<option value="${esc(v)}">${esc(t)}</option>`).join('')}</select></label>`;
  }).join('');
  const values = () => {
    const out = {};
    el.querySelectorAll('select[data-key]').forEach((s) => { if (s.value) out[s.dataset.key] = [s.value]; });
    el.querySelectorAll('[data-param]').forEach((i) => { if (i.value) out[`@${i.dataset.param}`] = i.value; });
    return out;
  };
  el.addEventListener('change', () => onChange(values()));
  return { values, filters: f };
}

/** Splits filterBar values into the API's `filters` object and plain query parameters. */
export function query(values) {
  const filters = {};
  const params = {};
  for (const [k, v] of Object.entries(values)) {
    if (k.startsWith('@')) params[k.slice(1)] = v; else filters[k] = v;
  }
  return { ...params, filters: Object.keys(filters).length ? filters : undefined };
}

// ---------------------------------------------------------------------------------------------
// Map
// ---------------------------------------------------------------------------------------------
let maplibre = null;

/** Operational state colours (the dots); the cost-centre colour from the server rings them. */
export const STATE_COLOURS = { moving: '#2e7d32', parked: '#1565c0', offline: '#9e9e9e', unknown: '#8d6e63', suspended: '#6a1b9a' };
export const stateColour = ['match', ['get', 'state'], ...Object.entries(STATE_COLOURS).flat(), '#607d8b'];

// Our own basemap: vector tiles of the loaded OSM roads and POIs, served by the gateway.
function offlineStyle() {
  const road = (id, classes, color, width) => ({
    id, type: 'line', source: 'osm', 'source-layer': 'roads',
    filter: ['in', ['get', 'highway'], ['literal', classes]],
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: { 'line-color': color, 'line-width': ['interpolate', ['linear'], ['zoom'], 10, width / 3, 16, width * 2] },
  });
  return {
    version: 8,
    sources: { osm: { type: 'vector', tiles: [`${location.origin}/tiles/{z}/{x}/{y}.pbf`], minzoom: 0, maxzoom: 14,
      attribution: '© OpenStreetMap contributors' } },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#f3f1ec' } },
      road('roads-minor', ['residential', 'service', 'living_street', 'unclassified', 'pedestrian', 'track', 'footway', 'path', 'steps', 'cycleway'], '#ffffff', 2),
      road('roads-mid', ['tertiary', 'tertiary_link', 'secondary', 'secondary_link'], '#fde9a8', 3),
      road('roads-major', ['primary', 'primary_link', 'trunk', 'trunk_link', 'motorway', 'motorway_link'], '#f7c46c', 4),
      { id: 'pois-fuel', type: 'circle', source: 'osm', 'source-layer': 'pois', filter: ['==', ['get', 'kind'], 'fuel'],
        paint: { 'circle-radius': 4, 'circle-color': '#7b1fa2', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } },
    ],
  };
}

/** A map in `el`; resolves when its style is loaded. */
export async function initMap(el) {
  maplibre ??= await import('/static/vendor/maplibre-gl/maplibre-gl.mjs');
  const cfg = await fetch('/static/config.json').then((r) => r.json()).catch(() => ({}));
  const map = new maplibre.Map({
    container: el, style: cfg.map_style || offlineStyle(), center: [36.82, -1.29], zoom: 11,
    attributionControl: { compact: true },
  });
  map.addControl(new maplibre.NavigationControl({ showCompass: false }), 'top-right');
  await new Promise((resolve) => map.once('load', resolve));
  // For the browser console and the end-to-end tests: the page's map.
  globalThis.fleet = { ...globalThis.fleet, map };
  return map;
}

/** Puts a GeoJSON FeatureCollection on the map as source `id` (replaced in place, no flicker). */
export function setGeoJson(map, id, geojson, layers) {
  const src = map.getSource(id);
  if (src) { src.setData(geojson); return false; }
  map.addSource(id, { type: 'geojson', data: geojson });
  for (const l of layers) map.addLayer({ ...l, source: id });
  return true;
}

/** Fits the map to the features of `geojson` (points and lines). */
export function fitTo(map, geojson, maxZoom = 15) {
  const b = new maplibre.LngLatBounds();
  const add = (c) => (typeof c[0] === 'number' ? b.extend(c) : c.forEach(add));
  for (const f of geojson.features || []) if (f.geometry) add(f.geometry.coordinates);
  if (!b.isEmpty()) map.fitBounds(b, { padding: 40, maxZoom, duration: 0 });
}

export function popup(map, lngLat, html) {
  return new maplibre.Popup({ closeButton: true, maxWidth: '320px' }).setLngLat(lngLat).setHTML(html).addTo(map);
}

/** The universal renderer: summary as a KPI strip, slo_status as badges, geojson on the map. */
export function renderView(view, { map, sourceId, layers, kpiEl, kpiItems, sloEl }) {
  if (kpiEl && kpiItems) kpis(kpiEl, kpiItems(view.summary || {}));
  if (sloEl) sloBadges(sloEl, view.slo_status, view.summary);
  if (map && view.geojson) return setGeoJson(map, sourceId, view.geojson, layers);
  return false;
}

/** A message in the page's status line (errors stay until the next success). */
export function status(text, isError = false) {
  const el = document.getElementById('status');
  if (!el) return;
  el.textContent = text;
  el.classList.toggle('error', isError);
}
