// Live: every vehicle as a dot coloured by its state, KPIs and SLO badges, filters, a searchable
// list, details on click. One snapshot (GET /api/views/live), then the stream
// (/api/views/live/stream) moves the dots as fixes arrive: no polling.
import * as fc from './fleet-core.js';

await fc.startPage('/live');
const map = await fc.initMap(document.getElementById('map'));
const kpiEl = document.getElementById('kpis');
const sloEl = document.getElementById('slo');
const listEl = document.getElementById('vehicles');
const search = document.getElementById('search');
let features = [];
let current = {};
let selected = null;
// Every unit the filters pick, by id; a feature replaces the one held only when its seq is at
// least as new (a snapshot and a stream tick may cross).
let units = new Map();
let snapshot = null;
// Ticks that arrive while a snapshot loads, applied after it.
let pending = null;
let live = null;
// For the end-to-end tests: how many snapshots were loaded and stream ticks applied.
const counters = { snapshots: 0, ticks: 0, changes: 0, resets: 0 };
globalThis.fleet = { ...globalThis.fleet, live: counters };

const layers = [{
  id: 'vehicles', type: 'circle',
  paint: {
    'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 4, 15, 8],
    'circle-color': fc.stateColour,
    'circle-stroke-color': ['coalesce', ['get', 'colour'], '#ffffff'], 'circle-stroke-width': 2,
  },
}];

function details(p, age) {
  return `<dl class="details">
    <dt>Vehicle</dt><dd>${fc.esc(p.vehicle_number)}</dd>
    <dt>State</dt><dd><span class="state ${fc.esc(p.state)}">${fc.esc(p.state)}</span></dd>
    <dt>Driver</dt><dd>${fc.esc(p.driver_name || '–')}${p.driver_phone ? ` · ${fc.esc(p.driver_phone)}` : ''}</dd>
    <dt>Speed</dt><dd>${fc.fmtNum(p.speed_kmh)} km/h</dd>
    <dt>Last fix</dt><dd>${fc.esc(p.fix_time_local || '–')} (${fc.fmtAge(age)} ago)</dd>
    ${p.address ? `<dt>Address</dt><dd>${fc.esc(p.address)}</dd>` : ''}
    <dt>Tracker</dt><dd>${fc.esc(p.imei || '–')}</dd>
  </dl>`;
}

function open(f) {
  selected = f.properties.imei;
  fc.popup(map, f.geometry.coordinates, details(f.properties, ageOf(f)));
  map.easeTo({ center: f.geometry.coordinates, zoom: Math.max(map.getZoom(), 14) });
}

// The list shows at most this many vehicles; a search narrows a big fleet (the map shows all).
const LIST_LIMIT = 300;

// The list is redrawn with every tick: when it holds the same vehicles in the same order it is
// updated in place, so the buttons stay the ones under the user's pointer (a click that spans a
// redraw still lands) and a long list is not rebuilt a few times a second.
let listed = null;
function renderList() {
  const q = search.value.trim();
  const plate = fc.normalizePlate(q);
  const lower = q.toLowerCase();
  const shown = [];
  for (const f of features) {
    if (!q || (plate && fc.normalizePlate(f.properties.vehicle_number).includes(plate))
      || (f.properties.driver_name || '').toLowerCase().includes(lower)) shown.push(f);
  }
  const top = shown.slice(0, LIST_LIMIT);
  const more = shown.length - top.length;
  const line = (f) => ({
    cls: f.properties.imei === selected ? 'selected' : '',
    colour: fc.STATE_COLOURS[f.properties.state] || '#607d8b',
    text: `${f.properties.state} · ${fc.fmtAge(ageOf(f))}`,
  });
  const keys = `${top.map((f) => f.id).join('\n')}\n${more}`;
  if (keys === listed) {
    listEl.querySelectorAll('button[data-id]').forEach((b, k) => {
      const l = line(top[k]);
      b.className = l.cls;
      b.querySelector('strong').textContent = top[k].properties.vehicle_number;
      b.querySelector('.dot').style.background = l.colour;
      b.querySelector('.muted').textContent = l.text;
    });
    return;
  }
  listed = keys;
  const items = top.map((f) => {
    const l = line(f);
    return `<li><button type="button" data-id="${fc.esc(f.id)}" class="${l.cls}">
      <span class="dot" style="background:${l.colour}"></span>
      <strong>${fc.esc(f.properties.vehicle_number)}</strong>
      <span class="muted">${fc.esc(l.text)}</span></button></li>`;
  });
  if (more > 0) {
    items.push(`<li class="empty">${fc.fmtNum(more)} more: search by plate or driver to narrow</li>`);
  }
  listEl.innerHTML = items.join('') || '<li class="empty">No vehicle matches</li>';
}

let first = true;
let lastTick = null;
let drawQueued = false;

function newer(held, seq) { return !held || seq >= held.properties.seq; }

function applyChanges(c) {
  for (const f of c.features) {
    if (newer(units.get(f.id), f.properties.seq)) units.set(f.id, { ...f, at: Date.now() });
  }
  for (const r of c.removed) {
    if (newer(units.get(r.id), r.seq)) units.delete(r.id);
  }
  counters.ticks += 1;
  counters.changes += c.features.length + c.removed.length;
  lastTick = c.generated_at;
  if (c.features.length || c.removed.length) queueDraw();
}

// The summary as the snapshot counts it, from the units held now.
function summary() {
  const s = { vehicles: 0, moving: 0, parked: 0, unknown: 0, offline: 0, suspended: 0, below_freshness: 0 };
  for (const f of units.values()) {
    const p = f.properties;
    s.vehicles += 1;
    s[p.state] = (s[p.state] || 0) + 1;
    if (p.below_freshness && p.state !== 'offline' && p.state !== 'suspended') s.below_freshness += 1;
  }
  return s;
}

// One redraw for however many ticks came, at most every 400 ms (a 10,000-vehicle map is not
// redrawn five times a second; a dot still moves well within a second of its fix).
let lastDraw = 0;
function queueDraw() {
  if (drawQueued) return;
  drawQueued = true;
  const wait = Math.max(0, 400 - (Date.now() - lastDraw));
  setTimeout(() => requestAnimationFrame(() => { drawQueued = false; lastDraw = Date.now(); draw(); }), wait);
}

function draw() {
  const all = [...units.values()].sort((a, b) => (a.properties.vehicle_number < b.properties.vehicle_number ? -1 : 1));
  features = all.filter((f) => f.geometry);
  const geojson = { type: 'FeatureCollection', features: features.map(({ at, ...f }) => f) };
  fc.renderView({ summary: summary(), slo_status: snapshot?.slo_status, geojson }, {
    map, sourceId: 'live', layers, kpiEl, sloEl,
    kpiItems: (s) => [
      ['moving', fc.fmtNum(s.moving), 'moving'], ['parked', fc.fmtNum(s.parked), 'parked'],
      ['offline', fc.fmtNum(s.offline), 'offline'], ['unknown', fc.fmtNum(s.unknown), 'unknown'],
      ['vehicles', fc.fmtNum(s.vehicles)],
    ],
  });
  if (first && features.length) { fc.fitTo(map, geojson); first = false; }
  renderList();
  const r = snapshot?.read_from;
  const behind = r && r.source === 'replica' && r.lag_seconds >= 1 ? ` (snapshot from the read replica, ${fc.fmtAge(r.lag_seconds)} behind)` : '';
  const at = lastTick ? fc.fmtTime(new Date(lastTick)) : (snapshot?.summary?.generated_at_local || '');
  fc.status(`Live · updated ${at} EAT${behind}`);
}

// The whole picture once (and again when the stream says it cannot resume); the stream's ticks
// that arrive meanwhile wait and are applied on top. One load at a time: a reset during a load
// loads again after it, the waiting ticks kept.
let loading = false;
let again = false;
let generation = 0;
async function loadSnapshot() {
  pending = pending || [];
  if (loading) { again = true; return; }
  loading = true;
  const gen = generation;
  try {
    const view = await fc.api('/api/views/live', fc.query(current));
    if (gen !== generation) return;
    snapshot = view;
    units = new Map((view.geojson.features || []).map((f) => [f.id, { ...f, at: Date.now() }]));
    counters.snapshots += 1;
    if (!again) {
      const waiting = pending;
      pending = null;
      for (const c of waiting) applyChanges(c);
      draw();
    }
  } catch (e) {
    fc.status(`Could not load the live view: ${e.message}`, true);
    again = true;
    await new Promise((res) => setTimeout(res, 5000));
  } finally {
    loading = false;
  }
  if (gen === generation && again) { again = false; loadSnapshot(); }
}

function connect() {
  live?.close();
  generation += 1;
  units = new Map();
  pending = null;
  again = false;
  live = fc.stream('/api/views/live/stream', fc.query(current), (name, data) => {
    if (name === 'hello') {
      if (!data.resumed) loadSnapshot();
    } else if (name === 'changes') {
      if (pending) pending.push(data); else applyChanges(data);
    } else if (name === 'reset') {
      counters.resets += 1;
      loadSnapshot();
    } else if (name === 'error') {
      fc.status(`Live updates interrupted: ${data.message}; reconnecting`, true);
    }
  });
}

// Ages on the list keep counting between ticks.
function ageOf(f) { return f.properties.age_s + (f.at ? (Date.now() - f.at) / 1000 : 0); }

map.on('click', 'vehicles', (e) => {
  const hit = e.features[0];
  open(features.find((f) => f.properties.imei === hit.properties.imei) || hit);
});
map.on('mouseenter', 'vehicles', () => { map.getCanvas().style.cursor = 'pointer'; });
map.on('mouseleave', 'vehicles', () => { map.getCanvas().style.cursor = ''; });
listEl.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-id]');
  const f = b && features.find((x) => x.id === b.dataset.id);
  if (f) open(f);
});
search.addEventListener('input', renderList);
await fc.filterBar(document.getElementById('filters'), ['states', 'accounts', 'cities', 'cost_centres'], (v) => {
  current = v;
  first = true;
  connect();
});
connect();
// The list's ages and the status line between ticks.
setInterval(() => { if (!drawQueued && !pending) renderList(); }, 5000);
