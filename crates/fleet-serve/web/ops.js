// Operations: SLO status, ingest health per source, job runs (the contract check among them),
// and the devices' lifecycle.
import * as fc from './fleet-core.js';

await fc.startPage('/ops');
const $ = (id) => document.getElementById(id);

async function refresh() {
  try {
    const [health, contract, devices] = await Promise.all([
      fc.api('/api/analytics/ingest-health'),
      fc.api('/api/analytics/contract-checks'),
      fc.api('/api/devices').catch((e) => ({ error: e.message })),
    ]);
    const s = health.summary || {};
    fc.kpis($('kpis'), [['pending', fc.fmtNum(s.pending)], ['events last hour', fc.fmtNum(s.raw_last_hour)],
      ['errors last hour', fc.fmtNum(s.errors_last_hour), s.errors_last_hour ? 'bad' : ''],
      ['failed jobs', fc.fmtNum(s.failed_jobs), s.failed_jobs ? 'bad' : '']]);
    fc.sloBadges($('slo'), health.slo_status);
    fc.table($('slos'), [
      ['SLO', (r) => `<span title="${fc.esc(r.description)}">${fc.esc(r.metric)}</span>`],
      ['Status', (r) => `<span class="badge ${r.status === 'met' ? 'ok' : r.status === 'not_met' ? 'bad' : 'unknown'}">${fc.esc(r.status)}</span>`],
      ['Value', (r) => `${fc.fmtNum(r.value, 2)} ${fc.esc(r.unit || '')}`, 'num'],
      ['Target', (r) => `${fc.esc(r.comparator)} ${fc.fmtNum(r.threshold, 2)}`, 'num'],
    ], health.slo_status?.slos || []);
    fc.table($('sources'), [
      ['Source', (r) => fc.esc(r.source)], ['Kind', (r) => fc.esc(r.kind)],
      ['Last hour', (r) => fc.fmtNum(r.last_hour), 'num'], ['Errors', (r) => fc.fmtNum(r.errors_last_hour), 'num'],
      ['Pending', (r) => fc.fmtNum(r.pending), 'num'], ['Last', (r) => `${fc.esc(r.last_received_local)} (${fc.fmtAge(r.age_s)} ago)`],
    ], health.sources || []);
    fc.table($('jobs'), [
      ['Job', (r) => fc.esc(r.job)], ['Outcome', (r) => `<span class="badge ${r.outcome === 'ok' ? 'ok' : 'bad'}">${fc.esc(r.outcome)}</span>`],
      ['Finished', (r) => fc.esc(r.finished_local || 'running')], ['Detail', (r) => fc.esc(r.detail || '')],
    ], health.jobs || []);
    const methods = (contract.latest || []).flatMap((t) => t.methods.map((m) => ({ ...m, target: t.target, finished_local: t.finished_local })));
    fc.table($('contract'), [
      ['Target', (r) => fc.esc(r.target)], ['Method', (r) => fc.esc(r.method)],
      ['Outcome', (r) => `<span class="badge ${r.outcome === 'ok' ? 'ok' : 'bad'}">${fc.esc(r.outcome)}</span>`],
      ['Records', (r) => fc.fmtNum(r.records), 'num'],
      ['Problems', (r) => fc.esc((r.problems || []).map((p) => (typeof p === 'string' ? p : [p.field, p.expected && `expected ${p.expected}`, p.found && `found ${p.found}`].filter(Boolean).join(' '))).join('; '))],
      ['Checked', (r) => fc.esc(r.finished_local || '–')],
    ], methods, 'No contract check has run yet');
    if (devices.error) {
      $('devices').innerHTML = `<p class="muted">${fc.esc(devices.error)}</p>`;
    } else {
      fc.table($('devices'), [
        ['Tracker', (r) => fc.esc(r.imei)], ['Vehicle', (r) => fc.esc(r.vehicle_number || '–')],
        ['Account', (r) => fc.esc(r.account || '–')], ['Lifecycle', (r) => `<span class="state ${fc.esc(r.lifecycle)}">${fc.esc(r.lifecycle)}</span>`],
        ['Since', (r) => fc.esc(r.lifecycle_changed_local || '–')], ['Last fix', (r) => fc.esc(r.last_fix_local || '–') + (r.clock_ahead_s
          ? ` <span class="state offline" title="The tracker's clock runs ahead of arrival; its fixes count as arrival plus the tolerance">clock ${fc.esc(fc.fmtAge(r.clock_ahead_s))} ahead</span>` : '')],
        ['Change', (r) => (r.allowed || []).length ? `<select data-imei="${fc.esc(r.imei)}" aria-label="New lifecycle for ${fc.esc(r.imei)}">
            <option value="">–</option>${r.allowed.map((a) => `<option>${fc.esc(a)}</option>`).join('')}</select>` : ''],
      ], devices.devices || []);
    }
    fc.status(`Updated ${fc.fmtTime(new Date())} EAT`);
  } catch (e) {
    fc.status(`Could not load: ${e.message}`, true);
  }
}

// A lifecycle change: confirmed, with a reason, then the list again.
$('devices').addEventListener('change', async (e) => {
  const sel = e.target.closest('select[data-imei]');
  if (!sel || !sel.value) return;
  const reason = prompt(`Why move ${sel.dataset.imei} to ${sel.value}?`);
  if (reason === null) { sel.value = ''; return; }
  const { imei } = sel.dataset;
  const to = sel.value;
  let outcome;
  try {
    await fc.send('POST', `/api/devices/${encodeURIComponent(imei)}/lifecycle`, { to, reason });
    outcome = [`${imei} is now ${to}`, false];
  } catch (ex) {
    outcome = [`Could not change ${imei}: ${ex.message}`, true];
  }
  await refresh();
  fc.status(...outcome);
});

await refresh();
setInterval(refresh, 30_000);
