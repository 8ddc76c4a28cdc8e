// Routes: from a vehicle, a point of interest or a point on the map to another, leaving now or
// later; the route coloured by where its speeds came from, ETA, distance, arrival, the steps,
// and the vehicles nearest to the destination by road.
import * as fc from './fleet-core.js';

await fc.startPage('/routes');
const $ = (id) => document.getElementById(id);
const map = await fc.initMap($('map'));
const BASIS = { observed: ['#2e7d32', 'observed speeds'], maxspeed: ['#1565c0', 'speed limits'], default: ['#ef6c00', 'road-class defaults'] };
const basisColour = ['match', ['get', 'basis'], ...Object.entries(BASIS).flatMap(([k, v]) => [k, v[0]]), '#607d8b'];
$('legend').innerHTML = Object.values(BASIS).map(([c, t]) =>
  `<span class="badge" style="border-left:6px solid ${c}">${fc.esc(t)}</span>`).join('');

const filters = await fc.api('/api/filters');
const vehicleOptions = (filters.vehicles || []).map((v) => `<option value="${fc.esc(v.vehicle_number)}"></option>`).join('');
$('vehicle-list').innerHTML = $('destination-list').innerHTML = vehicleOptions;

// search as you type: places, streets, points of interest and plates of the loaded extract
for (const [input, list] of [['origin', 'vehicle-list'], ['destination', 'destination-list']]) {
  let timer;
  $(input).addEventListener('input', () => {
    clearTimeout(timer);
    const q = $(input).value.trim();
    if (q.length < 2 || /^-?\d/.test(q) || q.startsWith('poi:')) return;
    timer = setTimeout(async () => {
      try {
        const r = await fc.api('/api/geo/search', { q, limit: 8 });
        $(list).innerHTML = r.results.map((x) => {
          const value = x.ref || (x.point ? fmtPoint(x.point) : x.name);
          const label = [x.name, x.kind === 'vehicle' ? 'vehicle' : x.detail || x.kind].filter(Boolean).join(' · ');
          return `<option value="${fc.esc(value)}" label="${fc.esc(label)}"></option>`;
        }).join('') || vehicleOptions;
      } catch (e) {
        fc.status(`Search failed: ${e.message}`, true);
      }
    }, 200);
  });
}

// a point typed as "lng,lat" is sent as numbers; anything else (a plate, poi:ID) as text
function point(text) {
  const m = text.trim().match(/^(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)$/);
  return m ? [Number(m[1]), Number(m[2])] : text.trim();
}
const fmtPoint = (c) => `${c[0].toFixed(5)},${c[1].toFixed(5)}`;

// a click fills the origin, then the destination, then starts over
let next = 'origin';
map.on('click', (e) => {
  if (map.queryRenderedFeatures(e.point, { layers: ['route-ends'] }).length) return;
  $(next).value = fmtPoint([e.lngLat.lng, e.lngLat.lat]);
  next = next === 'origin' ? 'destination' : 'origin';
  if ($('origin').value && $('destination').value) run();
});
$('swap').addEventListener('click', () => {
  [$('origin').value, $('destination').value] = [$('destination').value, $('origin').value];
  if ($('origin').value && $('destination').value) run();
});

const layers = [
  { id: 'route-alt', type: 'line', filter: ['==', ['get', 'kind'], 'alternative'],
    paint: { 'line-color': '#78909c', 'line-width': 4, 'line-opacity': 0.6, 'line-dasharray': [2, 1] } },
  { id: 'route-lines', type: 'line', filter: ['==', ['get', 'kind'], 'route'],
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: { 'line-color': basisColour, 'line-width': 5, 'line-opacity': 0.9 } },
  { id: 'route-ends', type: 'circle', filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 7, 'circle-color': ['match', ['get', 'kind'], 'origin', '#2e7d32', 'via', '#f9a825', '#c62828'],
      'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
];

const dur = (s) => (s < 60 ? `${Math.round(s)} s` : fc.fmtDuration(s));
const pct = (x) => `${Math.round((x || 0) * 100)} %`;
const arrow = { left: '↰', 'slight left': '↖', 'sharp left': '↙', right: '↱', 'slight right': '↗', 'sharp right': '↘', straight: '↑', uturn: '↶' };
function stepText(s) {
  const name = s.name ? fc.esc(s.name) : '<span class="muted">unnamed road</span>';
  switch (s.maneuver.type) {
    case 'depart': return `Start on ${name}`;
    case 'arrive': return 'Arrive';
    case 'continue': return `Continue onto ${name}`;
    default: return `${arrow[s.maneuver.modifier] || ''} Turn ${fc.esc(s.maneuver.modifier || '')} onto ${name}`;
  }
}

async function nearest(to) {
  try {
    const n = await fc.api('/api/routes/nearest', { to, limit: 5 });
    $('nearest').innerHTML = n.vehicles.map((v) => `<li><strong>${fc.esc(v.vehicle_number)}</strong>
      <span class="muted">${dur(v.eta_sec)} · ${fc.fmtNum(v.distance_m / 1000, 1)} km by road
      (${fc.fmtNum(v.straight_m / 1000, 1)} km straight) · ${fc.esc(v.state)}</span></li>`).join('')
      || '<li class="empty">No available vehicle reaches it</li>';
  } catch (e) {
    $('nearest').innerHTML = `<li class="empty">${fc.esc(e.message)}</li>`;
  }
}

async function run() {
  const origin = point($('origin').value);
  const destination = point($('destination').value);
  if (!$('origin').value.trim() || !$('destination').value.trim()) { fc.status('Give an origin and a destination', true); return; }
  // datetime-local is the EAT wall clock the user sees
  const depart = $('depart').value ? `${$('depart').value}:00+03:00` : undefined;
  fc.status('Routing…');
  try {
    const r = await fc.send('POST', '/api/routes', { origin, destination, depart_at: depart, alternatives: Number($('alternatives').value) });
    const features = [
      ...(r.alternatives || []).map((a) => ({ ...a.route_geojson, properties: { ...a.route_geojson.properties, kind: 'alternative' } })),
      ...r.basis_geojson.features.map((f) => ({ ...f, properties: { ...f.properties, kind: 'route' } })),
      { type: 'Feature', geometry: { type: 'Point', coordinates: r.snapped.origin }, properties: { kind: 'origin' } },
      ...(r.snapped.via || []).map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: { kind: 'via' } })),
      { type: 'Feature', geometry: { type: 'Point', coordinates: r.snapped.destination }, properties: { kind: 'destination' } },
    ];
    const geojson = { type: 'FeatureCollection', features };
    fc.setGeoJson(map, 'route', geojson, layers);
    fc.fitTo(map, geojson, 16);
    const b = r.observed_basis;
    fc.kpis($('kpis'), [
      ['ETA', dur(r.eta_sec)], ['km', fc.fmtNum(r.distance_m / 1000, 1)],
      ['arrives (EAT)', fc.fmtTime(new Date(r.arrive_at))],
      ['observed', pct(b.observed)], ['limits', pct(b.maxspeed)], ['defaults', pct(b.default)],
    ]);
    $('steps').innerHTML = r.legs.flatMap((l) => l.steps).map((s) => `<li>
      <span class="dot" style="background:${(BASIS[s.basis] || ['#607d8b'])[0]}"></span>
      ${stepText(s)} <span class="muted">${s.distance_m ? `${fc.fmtNum(s.distance_m)} m · ${dur(s.eta_sec)}` : ''}</span></li>`).join('');
    const alts = (r.alternatives || []).map((a) => `${dur(a.eta_sec)} (${fc.fmtNum(a.distance_m / 1000, 1)} km)`);
    fc.status(`Leaves ${fc.fmtDateTime(r.depart_at)}, arrives ${fc.fmtDateTime(r.arrive_at)} EAT${alts.length ? ` · alternatives: ${alts.join(', ')}` : ''}`);
    nearest(typeof destination === 'string' ? destination : destination.join(','));
  } catch (e) {
    fc.status(`No route: ${e.message}`, true);
  }
}

$('query').addEventListener('submit', (e) => { e.preventDefault(); run(); });
map.on('click', 'route-ends', (e) => fc.popup(map, e.lngLat, fc.esc(e.features[0].properties.kind)));
