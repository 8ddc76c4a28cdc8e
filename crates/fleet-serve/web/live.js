// Live: every vehicle as a dot coloured by its state, KPIs and SLO badges, filters, a searchable
// list, details on click; refreshed every 15 s in place.
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

const layers = [{
  id: 'vehicles', type: 'circle',
  paint: {
    'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 4, 15, 8],
    'circle-color': fc.stateColour,
    'circle-stroke-color': ['coalesce', ['get', 'colour'], '#ffffff'], 'circle-stroke-width': 2,
  },
}];

function details(p) {
  return `<dl class="details">
    <dt>Vehicle</dt><dd>${fc.esc(p.vehicle_number)}</dd>
    <dt>State</dt><dd><span class="state ${fc.esc(p.state)}">${fc.esc(p.state)}</span></dd>
    <dt>Driver</dt><dd>${fc.esc(p.driver_name || '–')}${p.driver_phone ? ` · ${fc.esc(p.driver_phone)}` : ''}</dd>
    <dt>Speed</dt><dd>${fc.fmtNum(p.speed_kmh)} km/h</dd>
    <dt>Last fix</dt><dd>${fc.esc(p.fix_time_local || '–')} (${fc.fmtAge(p.age_s)} ago)</dd>
    ${p.address ? `<dt>Address</dt><dd>${fc.esc(p.address)}</dd>` : ''}
    <dt>Tracker</dt><dd>${fc.esc(p.imei || '–')}</dd>
  </dl>`;
}

function open(f) {
  selected = f.properties.imei;
  fc.popup(map, f.geometry.coordinates, details(f.properties));
  map.easeTo({ center: f.geometry.coordinates, zoom: Math.max(map.getZoom(), 14) });
}

// The list shows at most this many vehicles; a search narrows a big fleet (the map shows all).
const LIST_LIMIT = 300;

function renderList() {
  const q = search.value.trim();
  const plate = fc.normalizePlate(q);
  const lower = q.toLowerCase();
  const shown = [];
  features.forEach((f, i) => {
    if (!q || (plate && fc.normalizePlate(f.properties.vehicle_number).includes(plate))
      || (f.properties.driver_name || '').toLowerCase().includes(lower)) shown.push(i);
  });
  const items = shown.slice(0, LIST_LIMIT).map((i) => {
    const p = features[i].properties;
    return `<li><button type="button" data-i="${i}" class="${p.imei === selected ? 'selected' : ''}">
      <span class="dot" style="background:${fc.STATE_COLOURS[p.state] || '#607d8b'}"></span>
      <strong>${fc.esc(p.vehicle_number)}</strong>
      <span class="muted">${fc.esc(p.state)} · ${fc.fmtAge(p.age_s)}</span></button></li>`;
  });
  if (shown.length > LIST_LIMIT) {
    items.push(`<li class="empty">${fc.fmtNum(shown.length - LIST_LIMIT)} more: search by plate or driver to narrow</li>`);
  }
  listEl.innerHTML = items.join('') || '<li class="empty">No vehicle matches</li>';
}

let first = true;
async function refresh() {
  try {
    const view = await fc.api('/api/views/live', fc.query(current));
    features = (view.geojson.features || []).filter((f) => f.geometry);
    fc.renderView(view, {
      map, sourceId: 'live', layers, kpiEl, sloEl,
      kpiItems: (s) => [
        ['moving', fc.fmtNum(s.moving), 'moving'], ['parked', fc.fmtNum(s.parked), 'parked'],
        ['offline', fc.fmtNum(s.offline), 'offline'], ['unknown', fc.fmtNum(s.unknown), 'unknown'],
        ['vehicles', fc.fmtNum(s.vehicles)],
      ],
    });
    if (first && features.length) { fc.fitTo(map, view.geojson); first = false; }
    renderList();
    const r = view.read_from;
    const behind = r && r.source === 'replica' && r.lag_seconds >= 1 ? ` (read replica, ${fc.fmtAge(r.lag_seconds)} behind)` : '';
    fc.status(`Updated ${view.summary.generated_at_local || ''} EAT${behind}`);
  } catch (e) {
    fc.status(`Could not refresh: ${e.message}`, true);
  }
}

map.on('click', 'vehicles', (e) => open(e.features[0]));
map.on('mouseenter', 'vehicles', () => { map.getCanvas().style.cursor = 'pointer'; });
map.on('mouseleave', 'vehicles', () => { map.getCanvas().style.cursor = ''; });
listEl.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-i]');
  if (b) open(features[Number(b.dataset.i)]);
});
search.addEventListener('input', renderList);
await fc.filterBar(document.getElementById('filters'), ['states', 'accounts', 'cities', 'cost_centres'], (v) => {
  current = v;
  first = true;
  refresh();
});
await refresh();
setInterval(refresh, 15_000);
