// Fuel log: KPIs, spend and litres over time, per-vehicle and per-department tables, cost per km,
// flagged fills to approve or void, recent fills, the department spellings to confirm, and the
// records the feed must fix; filtered by period, department and vehicle.
import * as fc from './fleet-core.js';
import uPlot from '/static/vendor/uplot/uPlot.esm.js';

await fc.startPage('/fuel');
const $ = (id) => document.getElementById(id);
let current = { '@period': '30d' };
let chart = null;
const canWrite = fc.can('write:ops');

const periods = `<label>Period <select data-param="period">
  <option value="7d">7 days</option><option value="30d" selected>30 days</option>
  <option value="90d">90 days</option><option value="365d">a year</option></select></label>`;

function drawTrend(trend) {
  const el = $('trend');
  const days = trend.map((t) => Date.parse(`${t.day}T12:00:00+03:00`) / 1000);
  const data = [days, trend.map((t) => t.spend_kes), trend.map((t) => t.litres)];
  const width = Math.max(300, el.clientWidth);
  if (chart) { chart.setData(data); chart.setSize({ width, height: 260 }); return; }
  chart = new uPlot({
    width, height: 260, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), fc.TZ),
    series: [{}, { label: 'Spend (KES)', stroke: '#1565c0', fill: 'rgba(21,101,192,0.12)', scale: 'kes', value: (u, v) => fc.fmtKes(v) },
      { label: 'Litres', stroke: '#ef6c00', scale: 'l', value: (u, v) => fc.fmtNum(v, 1) }],
    axes: [{}, { scale: 'kes', size: 70, values: (u, vs) => vs.map((v) => fc.fmtNum(v)) },
      { scale: 'l', side: 1, size: 50, grid: { show: false } }],
  }, data, el);
  addEventListener('resize', () => chart.setSize({ width: Math.max(300, el.clientWidth), height: 260 }));
}

const flags = (list) => (list || []).length
  ? `<span class="badge warn" title="${fc.esc(list.join('; '))}">${fc.esc(list.join('; '))}</span>` : '';
const review = (r) => (r.review && r.review !== 'open'
  ? `<span class="badge ${r.review === 'voided' ? 'bad' : 'ok'}" title="${fc.esc(r.review_reason || '')}">${fc.esc(r.review)}</span>
     <span class="muted">${fc.esc(r.review_reason || '')}${r.reviewed_by ? ` (${fc.esc(r.reviewed_by)})` : ''}</span>` : '<span class="badge">to review</span>');
const reviewButtons = (r) => (!canWrite ? '' : (r.review === 'open'
  ? `<button data-review="approve" data-id="${fc.esc(r.record_id)}">Approve</button> <button data-review="void" data-id="${fc.esc(r.record_id)}">Void</button>`
  : `<button data-review="reopen" data-id="${fc.esc(r.record_id)}">Reopen</button>`));

async function refresh() {
  const q = fc.query(current);
  try {
    const [fills, recent, flagged, cost, spellings] = await Promise.all([
      fc.api('/api/analytics/fuel-fills', q),
      fc.api('/api/analytics/fuel-fills/recent', q),
      fc.api('/api/analytics/fuel-flagged', q),
      fc.api('/api/analytics/fuel-cost-per-km', q),
      fc.api('/api/fuel/department-spellings'),
    ]);
    const t = fills.totals || {};
    const s = flagged.summary || {};
    fc.kpis($('kpis'), [
      ['spend', fc.fmtKes(t.spend_kes)], ['litres', fc.fmtNum(t.litres)], ['fills', fc.fmtNum(t.fills)],
      ['average KES/L', fc.fmtNum(t.avg_kes_per_litre, 2)], ['km/L', fc.fmtNum(t.km_per_l, 2)],
      ['KES/km', fc.fmtNum(cost.totals?.kes_per_gps_km, 2)],
      ['to review', fc.fmtNum(s.to_review), s.to_review ? 'bad' : ''],
    ]);
    drawTrend(fills.trend || []);
    fc.table($('by-vehicle'), [
      ['Vehicle', (r) => fc.esc(r.vehicle_number)], ['Department', (r) => fc.esc(r.department || '–')],
      ['Fills', (r) => fc.fmtNum(r.fills), 'num'], ['Litres', (r) => fc.fmtNum(r.litres, 1), 'num'],
      ['Spend', (r) => fc.fmtKes(r.spend_kes), 'num'], ['km/L', (r) => fc.fmtNum(r.km_per_l, 2), 'num'],
      ['KES/km', (r) => fc.fmtNum(r.kes_per_km, 2), 'num'],
    ], fills.by_vehicle || []);
    fc.table($('by-department'), [
      ['Department', (r) => fc.esc(r.department || '–')], ['Fills', (r) => fc.fmtNum(r.fills), 'num'],
      ['Litres', (r) => fc.fmtNum(r.litres, 1), 'num'], ['Spend', (r) => fc.fmtKes(r.spend_kes), 'num'],
    ], fills.by_department || []);
    fc.table($('cost-department'), [
      ['Month', (r) => fc.esc(r.month)], ['Department', (r) => fc.esc(r.department)],
      ['Spend', (r) => fc.fmtKes(r.spend_kes), 'num'], ['GPS km', (r) => fc.fmtNum(r.gps_km), 'num'],
      ['KES/km', (r) => fc.fmtNum(r.kes_per_gps_km, 2), 'num'], ['', (r) => flags(r.flags)],
    ], cost.by_department || [], 'No fills with GPS km in this period');
    fc.table($('cost-vehicle'), [
      ['Month', (r) => fc.esc(r.month)], ['Vehicle', (r) => fc.esc(r.vehicle_number)],
      ['Spend', (r) => fc.fmtKes(r.spend_kes), 'num'], ['GPS km', (r) => fc.fmtNum(r.gps_km), 'num'],
      ['KES/km', (r) => fc.fmtNum(r.kes_per_gps_km, 2), 'num'],
      ['KES/odo km', (r) => fc.fmtNum(r.kes_per_odometer_km, 2), 'num'], ['', (r) => flags(r.flags)],
    ], cost.by_vehicle || [], 'No fills of fleet vehicles in this period');
    $('flag-summary').textContent = `${fc.fmtNum(s.flagged)} flagged of ${fc.fmtNum(s.fills)} fills: `
      + `${fc.fmtNum(s.to_review)} to review, ${fc.fmtNum(s.approved)} approved, ${fc.fmtNum(s.voided)} voided; `
      + `${fc.fmtNum(s.verified)} verified at a fuel station. A voided fill stays listed and leaves every total.`;
    fc.table($('flagged'), [
      ['When (EAT)', (r) => fc.esc(r.filled_local || '–')], ['Vehicle', (r) => fc.esc(r.vehicle_number || '–')],
      ['Litres', (r) => fc.fmtNum(r.litres, 1), 'num'], ['KES', (r) => fc.fmtNum(r.amount_kes), 'num'],
      ['Where', (r) => fc.esc(r.address || r.station_name || '–')],
      ['Why', (r) => fc.esc((r.reasons || []).join('; '))], ['Review', review], ['', reviewButtons],
    ], flagged.rows || [], 'No flagged fills');
    fc.table($('recent'), [
      ['When (EAT)', (r) => fc.esc(r.filled_local) + (r.voided ? ' <span class="badge bad">voided</span>' : '')],
      ['Vehicle', (r) => fc.esc(r.vehicle_number)],
      ['Driver', (r) => fc.esc(r.driver || '–')], ['Fuel', (r) => fc.esc(r.fuel_type || '–')],
      ['Litres', (r) => fc.fmtNum(r.litres, 1), 'num'],
      ['Amount', (r) => (r.currency && r.currency !== 'KES' ? `${fc.esc(r.currency)} ${fc.fmtNum(r.amount)}` : fc.fmtKes(r.amount_kes)), 'num'],
      ['Station', (r) => fc.esc(r.station || '–')], ['Where', (r) => fc.esc(r.address || '–')],
    ], recent.rows || []);
    const sp = spellings.summary || {};
    $('spelling-summary').textContent = `${fc.fmtNum(sp.spellings)} spellings read as ${fc.fmtNum(sp.departments)} departments; `
      + `${fc.fmtNum(sp.suggestions)} to confirm.`;
    fc.table($('suggestions'), [
      ['Spelling', (r) => `<q>${fc.esc(r.spelling)}</q>`], ['Records', (r) => fc.fmtNum(r.records), 'num'],
      ['May be', (r) => fc.esc(r.suggestion)], ['Why', (r) => fc.esc(r.reason)],
      ['', (r) => (canWrite ? `<button data-confirm="${fc.esc(r.spelling)}" data-to="${fc.esc(r.suggestion)}">Same department</button>
          <button data-confirm="${fc.esc(r.spelling)}" data-to="${fc.esc(r.canonical)}">Keep apart</button>` : '')],
    ], spellings.suggestions || [], 'No spelling to confirm');
    fc.table($('spellings'), [
      ['Spelling', (r) => `<q>${fc.esc(r.spelling)}</q>`], ['Department', (r) => fc.esc(r.canonical)],
      ['Records', (r) => fc.fmtNum(r.records), 'num'], ['Decided by', (r) => fc.esc(r.decided_by.replace('_', ' '))],
      ['Why', (r) => fc.esc(r.reason)],
    ], spellings.rows || []);
    $('unusable-summary').textContent = `Not usable: ${fc.fmtNum(s.unreadable)} (kept, left out of every figure)`;
    fc.table($('unusable'), [['Record', (r) => fc.esc(r.record_id)], ['Plate', (r) => fc.esc(r.car || '–')],
      ['Why', (r) => fc.esc((r.reasons || []).join('; '))]], flagged.unreadable || [], 'None');
    $('incomplete-summary').textContent = `Counted with a value missing: ${fc.fmtNum(s.incomplete)}`;
    fc.table($('incomplete'), [['Record', (r) => fc.esc(r.record_id)], ['Plate', (r) => fc.esc(r.car || '–')],
      ['When (EAT)', (r) => fc.esc(r.filled_local || '–')], ['What is missing', (r) => fc.esc((r.warnings || []).join('; '))]],
      flagged.incomplete || [], 'None');
    fc.status(`${fc.fmtNum(t.fills)} fills from ${t.from_local || '–'} to ${t.to_local || '–'} EAT`);
  } catch (e) {
    fc.status(`Could not load the fuel log: ${e.message}`, true);
  }
}

// Approve, void or reopen a flagged fill, with a reason.
$('flagged').addEventListener('click', async (e) => {
  const b = e.target.closest('button[data-review]');
  if (!b) return;
  const { review: action, id } = b.dataset;
  const reason = action === 'reopen' ? '' : prompt(`Why ${action} fill ${id}?`);
  if (reason === null) return;
  let outcome;
  try {
    const r = await fc.send('POST', `/api/fuel/fills/${encodeURIComponent(id)}/review`, { action, reason });
    outcome = [`Fill ${id} is ${r.review}`, false];
  } catch (ex) {
    outcome = [`Could not ${action} fill ${id}: ${ex.message}`, true];
  }
  await refresh();
  fc.status(...outcome);
});

// Confirm a suggested department, or keep the spelling apart: either way a mapping.
$('suggestions').addEventListener('click', async (e) => {
  const b = e.target.closest('button[data-confirm]');
  if (!b) return;
  const { confirm: spelling, to } = b.dataset;
  let outcome;
  try {
    await fc.send('POST', '/api/fuel/mappings', { kind: 'department', raw_value: spelling, canonical: to });
    outcome = [`"${spelling}" is now read as ${to}`, false];
  } catch (ex) {
    outcome = [`Could not map "${spelling}": ${ex.message}`, true];
  }
  await refresh();
  fc.status(...outcome);
});

await fc.filterBar($('filters'), ['departments', 'vehicles'], (v) => { current = v; refresh(); }, periods);
await refresh();
