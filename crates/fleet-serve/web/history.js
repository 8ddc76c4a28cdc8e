// History: pick vehicles and days; the tracks, trips, stops and alarms on the map, a timeline
// and totals.
import * as fc from './fleet-core.js';

await fc.startPage('/history');
const $ = (id) => document.getElementById(id);
const map = await fc.initMap($('map'));
const filters = await fc.api('/api/filters');
$('vehicles').innerHTML = (filters.vehicles || []).map((v) =>
  `<option value="${fc.esc(v.plate_key)}">${fc.esc(v.vehicle_number)}</option>`).join('');
$('from').value = $('to').value = fc.todayLocal();
// Narrow a long list (thousands of vehicles) by plate, whatever its spacing, or by name; picked
// vehicles stay listed.
$('vehicle-find').addEventListener('input', () => {
  const q = $('vehicle-find').value.trim().toLowerCase();
  const plate = fc.normalizePlate(q);
  let shown = 0;
  for (const o of $('vehicles').options) {
    o.hidden = Boolean(q) && !o.selected && !(plate && o.value.includes(plate)) && !o.text.toLowerCase().includes(q);
    if (!o.hidden) shown += 1;
  }
  fc.status(q ? `${shown} of ${$('vehicles').options.length} vehicles` : '');
});

const colour = { track: '#1565c0', trip: '#2e7d32', stop: '#ef6c00', parking: '#ef6c00', idle: '#f9a825', alarm: '#c62828' };
const layers = [
  { id: 'history-lines', type: 'line', filter: ['in', ['geometry-type'], ['literal', ['LineString', 'MultiLineString']]],
    paint: { 'line-color': ['match', ['get', 'kind'], 'trip', colour.trip, colour.track], 'line-width': 3, 'line-opacity': 0.8 } },
  { id: 'history-points', type: 'circle', filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 6, 'circle-color': ['match', ['get', 'kind'], 'alarm', colour.alarm, 'idle', colour.idle, colour.stop],
      'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } },
];

const when = (p) => p.start_local || p.time_local || p.alarm_time_local || p.fix_time_local || '';
function describe(p) {
  const bits = [p.vehicle_number];
  if (p.distance_km !== undefined) bits.push(`${fc.fmtNum(p.distance_km, 1)} km`);
  if (p.track_km !== undefined && p.kind === 'track') bits.push(`${fc.fmtNum(p.track_km, 1)} km${p.matched ? ' on roads' : ''}`);
  if (p.duration_s !== undefined) bits.push(fc.fmtDuration(p.duration_s));
  if (p.alarm_type || p.type) bits.push(p.alarm_type || p.type);
  // addresses from the geocoder (blank until it has been there)
  if (p.start_address || p.end_address) bits.push(`${p.start_address || '?'} → ${p.end_address || '?'}`);
  else if (p.address) bits.push(p.address);
  return bits.filter(Boolean).map(fc.esc).join(' · ');
}

async function run() {
  const vehicles = [...$('vehicles').selectedOptions].map((o) => o.value);
  if (!vehicles.length) { fc.status('Pick at least one vehicle', true); return; }
  fc.status('Loading…');
  try {
    // zoom 15: tracks simplified to about 5 m, street-level detail; "matched": on the roads
    const track = $('matched').checked ? 'matched' : 'raw';
    const view = await fc.api('/api/views/history', { filters: { vehicles, from: $('from').value, to: $('to').value, zoom: 15, track } });
    const s = view.summary || {};
    fc.renderView(view, { map, sourceId: 'history', layers, kpiEl: $('kpis'), kpiItems: () => [
      ['trips', fc.fmtNum(s.trips)], ['km (GPS track)', fc.fmtNum(s.track_km, 1)], ['driving', fc.fmtDuration(s.driving_s)],
      ['stops', fc.fmtNum(s.stops)], ['alarms', fc.fmtNum(s.alarms)], ['max km/h', fc.fmtNum(s.max_speed_kmh)],
    ] });
    fc.fitTo(map, view.geojson);
    const items = (view.geojson.features || []).map((f) => f.properties).sort((a, b) => when(a).localeCompare(when(b)));
    $('timeline').innerHTML = items.map((p) => `<li class="kind-${fc.esc(p.kind)}"><span class="dot" style="background:${colour[p.kind] || '#607d8b'}"></span>
      <time>${fc.esc(when(p))}</time> <strong>${fc.esc(p.kind)}</strong> <span class="muted">${describe(p)}</span></li>`).join('')
      || '<li class="empty">Nothing recorded in this range</li>';
    fc.status(`${s.from_local || ''} – ${s.to_local || ''} EAT, ${fc.fmtNum(s.fixes)} fixes`);
  } catch (e) {
    fc.status(`Could not load the history: ${e.message}`, true);
  }
}

$('query').addEventListener('submit', (e) => { e.preventDefault(); run(); });
map.on('click', 'history-points', (e) => fc.popup(map, e.lngLat, `<strong>${fc.esc(e.features[0].properties.kind)}</strong><br>${describe(e.features[0].properties)}<br>${fc.esc(when(e.features[0].properties))}`));
