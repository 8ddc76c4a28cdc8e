// Fuel log: KPIs, spend and litres over time, per-vehicle and per-department tables, recent and
// flagged fills; filtered by period, department and vehicle.
import * as fc from './fleet-core.js';
import uPlot from '/static/vendor/uplot/uPlot.esm.js';

await fc.startPage('/fuel');
const $ = (id) => document.getElementById(id);
let current = { '@period': '30d' };
let chart = null;

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

async function refresh() {
  const q = fc.query(current);
  try {
    const [fills, recent, flagged] = await Promise.all([
      fc.api('/api/analytics/fuel-fills', q),
      fc.api('/api/analytics/fuel-fills/recent', q),
      fc.api('/api/analytics/fuel-flagged', q),
    ]);
    const t = fills.totals || {};
    fc.kpis($('kpis'), [
      ['spend', fc.fmtKes(t.spend_kes)], ['litres', fc.fmtNum(t.litres)], ['fills', fc.fmtNum(t.fills)],
      ['average KES/L', fc.fmtNum(t.avg_kes_per_litre, 2)], ['km/L', fc.fmtNum(t.km_per_l, 2)],
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
    const rows = Array.isArray(recent) ? recent : (recent.rows || []);
    fc.table($('recent'), [
      ['When (EAT)', (r) => fc.esc(r.filled_local)], ['Vehicle', (r) => fc.esc(r.vehicle_number)],
      ['Driver', (r) => fc.esc(r.driver || '–')], ['Fuel', (r) => fc.esc(r.fuel_type || '–')],
      ['Litres', (r) => fc.fmtNum(r.litres, 1), 'num'], ['KES', (r) => fc.fmtNum(r.amount_kes), 'num'],
      ['Station', (r) => fc.esc(r.station || '–')],
    ], rows);
    const flags = Array.isArray(flagged) ? flagged : (flagged.rows || []);
    fc.table($('flagged'), [
      ['When (EAT)', (r) => fc.esc(r.filled_local || '–')], ['Vehicle', (r) => fc.esc(r.vehicle_number || r.car || '–')],
      ['Why', (r) => fc.esc((r.reasons || r.outliers || []).join('; '))],
    ], flags, 'No flagged fills');
    fc.status(`${fc.fmtNum(t.fills)} fills from ${t.from_local || '–'} to ${t.to_local || '–'} EAT`);
  } catch (e) {
    fc.status(`Could not load the fuel log: ${e.message}`, true);
  }
}

await fc.filterBar($('filters'), ['departments', 'vehicles'], (v) => { current = v; refresh(); }, periods);
await refresh();
