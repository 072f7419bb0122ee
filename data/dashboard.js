// SPDX-License-Identifier: LGPL-2.1-or-later
// memscope dashboard: draws memscope-aggregate's comprehensive report (and
// its resource rankings when present), embedded in the page as JSON, into
// views chosen by the URL hash. Plain ES2017 and the DOM: no libraries, no
// network. Every string that comes from the report reaches the page through
// textContent or setAttribute, never as markup: function names carry '<'
// and '&' (C++ templates, operators). With ?selftest=1 in the URL the page
// drives itself through every view and writes what it saw on <body>.
'use strict';

(function () {
  // ---------------------------------------------------------------------
  // Formatting

  const NUM = new Intl.NumberFormat('en-US');
  const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

  function isNum (v) {
    return typeof v === 'number' && isFinite(v);
  }

  function fmtCount (n) {
    return isNum(n) ? NUM.format(Math.round(n)) : '—';
  }

  function fmtFixed (v, digits) {
    return isNum(v) ? v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—';
  }

  // 3 significant digits at most, binary units: 2.94 MiB, 90.8 KiB, 210 MiB.
  function fmtBytes (n) {
    if (!isNum(n)) return '—';
    const neg = n < 0;
    let v = Math.abs(n);
    let i = 0;
    while (v >= 1024 && i < BYTE_UNITS.length - 1) {
      v /= 1024;
      i++;
    }
    const s = i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0);
    return (neg ? '−' : '') + s + ' ' + BYTE_UNITS[i];
  }

  // Bucket bounds are powers of two: 512 B, 4 KiB, 1 MiB without decimals.
  function fmtSize (n) {
    if (!isNum(n)) return '—';
    let v = n;
    let i = 0;
    while (v >= 1024 && i < BYTE_UNITS.length - 1) {
      v /= 1024;
      i++;
    }
    return (Number.isInteger(v) ? String(v) : v.toFixed(1)) + ' ' + BYTE_UNITS[i];
  }

  function fmtBytesExact (n) {
    return isNum(n) ? NUM.format(n) + (n === 1 ? ' byte' : ' bytes') : '—';
  }

  // Durations from nanoseconds, to the precision a reader wants.
  function fmtNs (ns) {
    if (!isNum(ns)) return '—';
    const a = Math.abs(ns);
    if (a < 1e3) return Math.round(ns) + ' ns';
    if (a < 1e6) return (ns / 1e3).toFixed(a < 1e4 ? 2 : a < 1e5 ? 1 : 0) + ' µs';
    if (a < 1e9) return (ns / 1e6).toFixed(a < 1e7 ? 2 : a < 1e8 ? 1 : 0) + ' ms';
    if (a < 60e9) return (ns / 1e9).toFixed(a < 1e10 ? 2 : 1) + ' s';
    const s = Math.round(ns / 1e9);
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }

  // On an axis, round times need no decimals: 50 ms, 1.5 s.
  function fmtNsAxis (ns) {
    return fmtNs(ns).replace(/(\.\d*?)0+ /, '$1 ').replace('. ', ' ');
  }

  function fmtPct (p, digits) {
    if (!isNum(p)) return '—';
    const d = digits != null ? digits : Math.abs(p) < 10 ? 1 : 0;
    return p.toFixed(d) + ' %';
  }

  function fmtRate (n) {
    if (!isNum(n)) return '—';
    if (n >= 100) return NUM.format(Math.round(n)) + '/s';
    return fmtFixed(n, n >= 10 ? 1 : 2) + '/s';
  }

  function fmtBytesRate (n) {
    return isNum(n) ? fmtBytes(n) + '/s' : '—';
  }

  // Compact numbers for axes: 1.2k, 35M.
  function fmtShort (n) {
    if (!isNum(n)) return '';
    const a = Math.abs(n);
    if (a >= 1e9) return +(n / 1e9).toFixed(1) + 'G';
    if (a >= 1e6) return +(n / 1e6).toFixed(1) + 'M';
    if (a >= 1e3) return +(n / 1e3).toFixed(1) + 'k';
    return +n.toFixed(a < 10 ? 2 : 1) + '';
  }

  function fmtWall (ns) {
    if (!isNum(ns) || ns <= 0) return '—';
    const d = new Date(ns / 1e6);
    const p = (x) => String(x).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' +
      p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
  }

  function basename (path) {
    if (typeof path !== 'string') return '';
    const i = path.lastIndexOf('/');
    return i >= 0 ? path.slice(i + 1) : path;
  }

  function shortLocation (loc) {
    if (typeof loc !== 'string' || !loc) return '';
    return basename(loc);
  }

  const FORMAT = {
    count: fmtCount,
    bytes: fmtBytes,
    pct: (v) => fmtPct(v),
    ns: fmtNs,
    rate: fmtRate,
    brate: fmtBytesRate,
    text: (v) => (v == null ? '—' : String(v)),
    num: (v) => (isNum(v) ? fmtFixed(v, Math.abs(v) < 10 ? 2 : 0) : '—'),
  };

  // ---------------------------------------------------------------------
  // DOM helpers: strings always become text nodes or attribute values.

  const SVGNS = 'http://www.w3.org/2000/svg';

  function put (el, kids) {
    for (const c of kids) {
      if (c == null || c === false) continue;
      if (Array.isArray(c)) put(el, c);
      else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function setProps (el, props) {
    if (!props) return el;
    for (const k of Object.keys(props)) {
      const v = props[k];
      if (v == null || v === false) continue;
      if (k === 'class') el.setAttribute('class', v);
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'style') el.setAttribute('style', v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    return el;
  }

  function h (tag, props, ...kids) {
    return put(setProps(document.createElement(tag), props), kids);
  }

  function svg (tag, props, ...kids) {
    return put(setProps(document.createElementNS(SVGNS, tag), props), kids);
  }

  function $ (sel, root) {
    return (root || document).querySelector(sel);
  }

  function $$ (sel, root) {
    return Array.from((root || document).querySelectorAll(sel));
  }

  const ICON_PATHS = {
    info: 'M10 1.5a8.5 8.5 0 1 0 0 17 8.5 8.5 0 0 0 0-17Zm0 4a1.1 1.1 0 1 1 0 2.2 1.1 1.1 0 0 1 0-2.2Zm1.3 9.5H8.7v-1.4h.6V9.8h-.6V8.4h2v5.2h.6Z',
    warn: 'M10 1.8 .9 17.5h18.2L10 1.8Zm-.9 5.2h1.8l-.2 5.6H9.3L9.1 7Zm.9 8.6a1.1 1.1 0 1 1 0-2.2 1.1 1.1 0 0 1 0 2.2Z',
  };

  function icon (name, cls) {
    return svg('svg', { class: cls || 'banner-icon', viewBox: '0 0 20 20', 'aria-hidden': 'true' },
      svg('path', { d: ICON_PATHS[name] }));
  }

  // ---------------------------------------------------------------------
  // The report

  const errors = [];

  function readJson (id) {
    const el = document.getElementById(id);
    if (!el) return { error: 'no element #' + id };
    const text = el.textContent.trim();
    if (text === '' || text === 'null') return { value: null };
    try {
      return { value: JSON.parse(text) };
    } catch (e) {
      return { error: e.message };
    }
  }

  const arr = (v) => (Array.isArray(v) ? v : []);
  const obj = (v) => (v && typeof v === 'object' ? v : {});

  function buildModel (doc, rankings) {
    const m = {
      doc,
      rankings: rankings && rankings.report === 'resource_rankings' ? rankings : null,
      estimated: !!(doc.estimated || obj(doc.trace).sampled || obj(doc.summary).sampled === 1),
      trace: obj(doc.trace),
      summary: obj(doc.summary),
      processes: arr(doc.processes),
      threads: arr(doc.threads),
      stacks: arr(doc.stacks),
      interactions: arr(doc.interactions),
      bottlenecks: arr(doc.bottlenecks),
      correlations: obj(doc.correlations),
      dataLoss: obj(doc.data_loss),
      stackById: new Map(),
      procByPid: new Map(),
      system: obj(doc.system_timeline),
    };
    m.stacks.forEach((s, i) => {
      if (s && isNum(s.stack_id)) m.stackById.set(s.stack_id, s);
      else if (s) m.stackById.set(i, s);
    });
    for (const p of m.processes) m.procByPid.set(p.pid, p);
    m.multi = m.processes.length > 1;
    return m;
  }

  let M = null;

  function stackOf (row) {
    if (!row || !isNum(row.stack_id)) return null;
    return M.stackById.get(row.stack_id) || null;
  }

  function resourceSeries (proc) {
    const r = proc && proc.resources;
    return r && Array.isArray(r.series) ? r.series : [];
  }

  function systemPoints () {
    return arr(M.system.points);
  }

  // What the process selector narrows the views to: the whole run or one
  // process (its own totals, timeline, sizes, peak stacks and threads).
  function scope () {
    const pid = ui.pid;
    const proc = pid != null ? M.procByPid.get(pid) : null;
    if (proc) {
      return {
        proc,
        pid: proc.pid,
        label: 'process ' + proc.pid + ' (' + proc.program + ')',
        totals: {
          allocations: proc.allocations,
          frees: proc.frees,
          reallocs: proc.reallocs,
          bytes_allocated: proc.bytes_allocated,
          bytes_freed: proc.bytes_freed,
          peak_live_bytes: proc.peak_live_bytes,
          peak_live_blocks: proc.peak_live_blocks,
          peak_time_ns: proc.peak_time_ns,
          leaked_blocks: proc.leaked_blocks,
          leaked_bytes: proc.leaked_bytes,
          temporary_allocations: proc.temporary_allocations,
          temporary_bytes: null,
          cross_thread_frees: proc.cross_thread_frees,
          cross_thread_bytes: null,
          threads: proc.threads,
          processes: 1,
          duration_ns: proc.duration_ns,
          lost_events: proc.lost_events,
        },
        threads: M.threads.filter((t) => t.pid === proc.pid),
        interactions: M.interactions.filter((r) => r.pid === proc.pid),
        timeline: obj(proc.timeline),
        sizes: arr(proc.sizes),
        peakStacks: arr(proc.peak_stacks),
        resources: proc.resources || null,
        seriesProcs: [proc],
        // Stack rows are one process's each (schema 1.2: older reports'
        // rows have no pid and stay); findings about the whole run carry no
        // pid and stay.
        own: (rows) => arr(rows).filter((r) => r.pid === proc.pid || r.pid === undefined),
        ownFindings: (rows) => arr(rows).filter((r) => r.pid == null || r.pid === proc.pid),
      };
    }
    const s = M.summary;
    return {
      proc: null,
      pid: null,
      label: M.multi ? 'all ' + M.processes.length + ' processes' : null,
      totals: Object.assign({}, s),
      threads: M.threads,
      interactions: M.interactions,
      timeline: obj(M.doc.timeline),
      sizes: arr(M.doc.sizes),
      peakStacks: arr(obj(M.doc.peak).stacks),
      resources: M.processes.length === 1 ? M.processes[0].resources : null,
      seriesProcs: M.processes,
      own: arr,
      ownFindings: arr,
    };
  }

  // ---------------------------------------------------------------------
  // UI state and the hash router: #view?key=value&…

  const ui = {
    view: 'overview',
    params: new URLSearchParams(),
    pid: null,
    renderedHash: null,
    tables: new Map(),
    zoom: new Map(),
    stacksBy: 'bytes',
    flameWeight: 'bytes',
    flameFocus: [],
    flameQuery: '',
    sizesBy: 'allocations',
    alertFilter: 'all',
    cleanups: [],
  };

  const VIEWS = [
    { id: 'overview', title: 'Overview', icon: 'M3 10.5 10 4l7 6.5M5 9v7h10V9', render: viewOverview },
    { id: 'timeline', title: 'Timeline', icon: 'M2 15l4.5-5 3.5 3 7.5-8', render: viewTimeline },
    { id: 'threads', title: 'Threads', icon: 'M4 5h12M4 10h12M4 15h12', render: viewThreads, count: () => scope().threads.length },
    { id: 'stacks', title: 'Call stacks', icon: 'M4 4h12v3H4zM6 8.5h10v3H6zM8 13h8v3H8z', render: viewStacks },
    { id: 'flame', title: 'Flame graph', icon: 'M3 4h14v3H3zM3 8.5h9v3H3zM13 8.5h4v3h-4zM3 13h5v3H3z', render: viewFlame },
    { id: 'leaks', title: 'Leaks', icon: 'M10 3c3 4 5 6.5 5 9a5 5 0 0 1-10 0c0-2.5 2-5 5-9Z', render: viewLeaks, count: () => scope().own(M.doc.leaks).length, alert: () => (scope().totals.leaked_bytes || 0) > 0 },
    { id: 'peak', title: 'Peak', icon: 'M2 16l5-7 3 3 4-8 4 12', render: viewPeak },
    { id: 'temporary', title: 'Temporary & sizes', icon: 'M4 16V9M8 16V5M12 16v-4M16 16V7', render: viewTemporary },
    { id: 'labels', title: 'Labels', icon: 'M3 4h8l6 6-7 7-7-7zM7 8h.01', render: viewLabels, count: () => scope().own(M.doc.labels).length, alert: () => scope().own(M.doc.labels).some((l) => (l.leaked_bytes || 0) > 0) },
    { id: 'interactions', title: 'Thread interactions', icon: 'M3 7h11l-3-3M17 13H6l3 3', render: viewInteractions, count: () => scope().interactions.length },
    { id: 'findings', title: 'Findings', icon: 'M10 3v8M10 14.5v.5M3 17h14L10 3z', render: viewFindings, count: () => scope().ownFindings(M.bottlenecks).length, alert: () => scope().ownFindings(M.bottlenecks).some((b) => b.severity === 'high') },
    { id: 'processes', title: 'Processes', icon: 'M3 4h6v5H3zM11 4h6v5h-6zM3 11h6v5H3zM11 11h6v5h-6z', render: viewProcesses, count: () => M.processes.length },
  ];
  const VIEW_BY_ID = new Map(VIEWS.map((v) => [v.id, v]));

  function parseHash () {
    const raw = location.hash.replace(/^#/, '');
    const q = raw.indexOf('?');
    const id = decodeURIComponent(q >= 0 ? raw.slice(0, q) : raw);
    const params = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
    return { id: VIEW_BY_ID.has(id) ? id : 'overview', params };
  }

  function buildHash (id, params) {
    const p = new URLSearchParams(params || {});
    if (ui.pid != null && !p.has('pid')) p.set('pid', String(ui.pid));
    for (const [k, v] of Array.from(p.entries())) if (v === '' || v == null) p.delete(k);
    const qs = p.toString();
    return '#' + id + (qs ? '?' + qs : '');
  }

  // Navigates and draws at once (the self-test relies on it), leaving the
  // hashchange event that follows nothing to do.
  function go (id, params) {
    const hash = buildHash(id, params);
    if (location.hash !== hash) {
      ui.renderedHash = hash;
      location.hash = hash;
    }
    render();
  }

  // Records a detail of the current view (an open thread, a toggle) in the
  // hash without drawing the view again.
  function noteInHash (key, value) {
    const p = new URLSearchParams(ui.params);
    if (value == null || value === '') p.delete(key);
    else p.set(key, String(value));
    ui.params = p;
    const hash = buildHash(ui.view, p);
    ui.renderedHash = hash;
    if (location.hash !== hash) location.hash = hash;
  }

  function render () {
    const { id, params } = parseHash();
    ui.view = id;
    ui.params = params;
    const pid = params.get('pid');
    ui.pid = pid != null && M.procByPid.has(Number(pid)) ? Number(pid) : null;
    for (const f of ui.cleanups) f();
    ui.cleanups = [];
    hideTip();
    drawNav();
    drawTools();
    const main = $('#view');
    main.replaceChildren();
    const v = VIEW_BY_ID.get(id);
    document.title = baseTitle + (id === 'overview' ? '' : ' · ' + v.title);
    try {
      v.render(main, params);
    } catch (e) {
      noteError(e);
      main.appendChild(h('div', { class: 'error-box' },
        h('strong', { text: 'This view failed to draw: ' }), String(e && e.message || e)));
    }
    ui.renderedHash = location.hash || buildHash(id, params);
  }

  function noteError (e) {
    errors.push(String(e && (e.stack || e.message) || e));
    if (window.console) console.error(e);
  }

  let baseTitle = document.title;

  // ---------------------------------------------------------------------
  // Frame: navigation, top bar, banners

  function drawNav () {
    const nav = $('#nav');
    nav.replaceChildren();
    for (const v of VIEWS) {
      let count = null;
      try {
        count = v.count ? v.count() : null;
      } catch (e) {
        count = null;
      }
      const a = h('a', { href: buildHash(v.id, {}), class: v.id === ui.view ? 'active' : null, dataset: { view: v.id } },
        svg('svg', { class: 'nav-icon', viewBox: '0 0 20 20', 'aria-hidden': 'true' }, svg('path', { d: v.icon })),
        h('span', { text: v.title }),
        count != null ? h('span', { class: 'nav-count' + (v.alert && v.alert() ? ' alert' : ''), text: fmtCount(count) }) : null);
      if (v.id === ui.view) a.setAttribute('aria-current', 'page');
      nav.appendChild(a);
    }
  }

  function drawTools () {
    const tools = $('#tools');
    tools.replaceChildren();
    if (M.estimated) tools.appendChild(h('span', { class: 'badge est', title: 'Sampled trace: counts and bytes are estimates', text: 'sampled · estimates' }));
    if (M.multi) {
      const sel = h('select', { id: 'process-select', 'aria-label': 'Process' });
      sel.appendChild(h('option', { value: '', text: 'All processes (' + M.processes.length + ')' }));
      for (const p of M.processes) {
        sel.appendChild(h('option', { value: String(p.pid), text: p.pid + ' — ' + p.program }));
      }
      sel.value = ui.pid != null ? String(ui.pid) : '';
      sel.addEventListener('change', () => selectProcess(sel.value === '' ? null : Number(sel.value)));
      tools.appendChild(h('label', { for: 'process-select', text: 'Process' }));
      tools.appendChild(sel);
    }
  }

  function selectProcess (pid) {
    ui.pid = pid;
    const p = new URLSearchParams(ui.params);
    p.delete('tid');
    if (pid == null) p.delete('pid');
    else p.set('pid', String(pid));
    go(ui.view, p);
  }

  function drawFrame () {
    const t = M.trace;
    const program = t.program || M.summary.program || 'program';
    $('#program').textContent = program;
    $('#cmdline').textContent = t.command_line || '';
    $('#cmdline').title = t.command_line || '';
    const gen = obj(M.doc.generator);
    $('#generator').textContent = (gen.name || 'memscope-aggregate') + ' ' + (gen.version || '') +
      ' · schema ' + (M.doc.schema_version || '?');
    baseTitle = document.title && document.title.indexOf('@') < 0 ? document.title : program + ' — memscope';
    drawBanners();
  }

  function drawBanners () {
    const b = $('#banners');
    b.replaceChildren();
    const major = parseInt(String(M.doc.schema_version || '1'), 10);
    if (major > 1) {
      b.appendChild(h('div', { class: 'banner warn' }, icon('warn'),
        h('div', { class: 'banner-body' },
          h('strong', { text: 'Newer report format. ' }),
          'This report has schema version ' + M.doc.schema_version + ', newer than this dashboard knows (1.x): some figures may be missing.')));
    }
    if (M.estimated) {
      b.appendChild(h('div', { class: 'banner est', dataset: { banner: 'estimate' } }, icon('info'),
        h('div', { class: 'banner-body' },
          h('strong', { text: 'Sampled trace: figures marked ' }), estBadge(), h('strong', { text: ' are estimates. ' }),
          'The recorder kept a sample of the events (' + (M.trace.sampling || 'sampled') + ') and weighted each by the number of events it stands for, ' +
          'so counts and bytes are unbiased estimates, not exact totals. The per-call-site frequency table is exact.')));
    }
    const dl = M.dataLoss;
    const items = [];
    if ((dl.lost_events || 0) > 0) items.push((dl.estimated ? 'about ' : '') + fmtCount(dl.lost_events) + ' events were lost' + (dl.estimated ? ' (estimated from the bytes lost)' : ''));
    for (const f of arr(dl.files)) {
      items.push(f.file + ': ' + f.message + ' — data missing after offset ' + fmtCount(f.last_good_offset) +
        ', ' + fmtBytes(f.bytes_skipped) + ' skipped, ' + (f.estimated ? 'about ' : '') + fmtCount(f.events_lost) + ' events lost' +
        (f.truncated ? ' (file cut short)' : ''));
    }
    for (const pid of arr(dl.processes_without_exit)) items.push('process ' + pid + ' ended without its exit record (killed, crashed or _exit): its blocks still live then count as leaked');
    if ((dl.unknown_stack_refs || 0) > 0) items.push(fmtCount(dl.unknown_stack_refs) + ' events named call stacks that were never recorded');
    if ((dl.malformed_events || 0) > 0) items.push(fmtCount(dl.malformed_events) + ' malformed events were skipped');
    for (const w of arr(dl.warnings)) items.push(w);
    if (items.length) {
      const damaged = arr(dl.files).length;
      const severe = damaged > 0 || (dl.lost_events || 0) > 0;
      b.appendChild(h('div', { class: 'banner ' + (severe ? 'bad' : 'warn'), dataset: { banner: 'data-loss' } }, icon('warn'),
        h('div', { class: 'banner-body' },
          h('strong', { text: severe ? 'Part of the trace was lost. ' : 'The analysis reported warnings. ' }),
          severe ? 'What was intact is analysed below; the totals miss what was lost.' : 'The figures below may be affected.',
          h('details', { open: items.length <= 3 ? true : null },
            h('summary', { text: items.length + (items.length === 1 ? ' detail' : ' details') }),
            h('ul', null, items.map((s) => h('li', { text: s })))))));
    }
  }

  function estBadge () {
    return h('span', { class: 'badge est', title: 'Estimated from a sampled trace', text: 'estimate' });
  }

  function maybeEst () {
    return M.estimated ? estBadge() : null;
  }

  // ---------------------------------------------------------------------
  // Building blocks

  function pageHead (title, lede, ...extra) {
    return h('div', { class: 'page-head' },
      h('div', null, h('h2', { text: title }), lede ? h('div', { class: 'lede' }, lede) : null),
      h('div', { class: 'spacer' }), ...extra);
  }

  function panel (title, opts, ...body) {
    opts = opts || {};
    const head = title != null
      ? h('div', { class: 'panel-head' }, h('h3', { text: title }), opts.est ? maybeEst() : null,
        opts.sub ? h('span', { class: 'sub', text: opts.sub }) : null, h('span', { class: 'spacer' }), opts.tools || null)
      : null;
    return h('section', { class: 'panel' + (opts.cls ? ' ' + opts.cls : ''), dataset: opts.data || null },
      head, h('div', { class: 'panel-body' + (opts.flush ? ' flush' : '') }, body), opts.note ? h('div', { class: 'panel-note' }, opts.note) : null);
  }

  function emptyNote (title, text) {
    return h('div', { class: 'empty' }, h('strong', { text: title }), text || null);
  }

  // A key figure. kind: count (exact value shown in full), bytes (units,
  // exact bytes below), or text.
  function card (figure, label, value, kind, opts) {
    opts = opts || {};
    let main = '—';
    let exact = null;
    if (kind === 'count') main = fmtCount(value);
    else if (kind === 'bytes') {
      main = fmtBytes(value);
      exact = fmtBytesExact(value);
    } else main = value == null ? '—' : String(value);
    return h('div', { class: 'card' + (opts.tone ? ' ' + opts.tone : ''), dataset: { figure }, title: opts.title || null },
      h('div', { class: 'label' }, h('span', { text: label }), opts.est ? maybeEst() : null),
      h('div', { class: 'value', text: main }),
      exact ? h('div', { class: 'exact', text: exact }) : null,
      opts.sub || !exact ? h('div', { class: 'sub', text: opts.sub || ' ' }) : null);
  }

  function segmented (options, current, onPick, label) {
    const seg = h('div', { class: 'seg', role: 'group', 'aria-label': label || null });
    for (const [value, text] of options) {
      seg.appendChild(h('button', {
        type: 'button',
        'aria-pressed': value === current ? 'true' : 'false',
        dataset: { value },
        text,
        onclick: () => onPick(value),
      }));
    }
    return seg;
  }

  function searchBox (placeholder, value, onInput) {
    const input = h('input', { type: 'search', class: 'search', placeholder, 'aria-label': placeholder, value: value || '' });
    input.addEventListener('input', () => onInput(input.value));
    return input;
  }

  function pctBar (pct) {
    const w = Math.max(0, Math.min(100, isNum(pct) ? pct : 0));
    return h('span', { class: 'bar-cell' }, h('span', { class: 'bar' }, h('i', { style: 'width:' + w.toFixed(1) + '%' })), h('span', { text: fmtPct(pct, 1) }));
  }

  function isSystemFrame (f) {
    const mod = basename(f.module || '');
    return /^(libc|libstdc\+\+|libgcc|ld-linux|libpthread|libm)[.-]/.test(mod) || mod === 'libmemscope-preload.so';
  }

  // The frames of a stack group, innermost first, as the report has them.
  function framesView (stack, folded) {
    if (!stack) {
      return folded ? h('div', null, h('div', { class: 'frames-head', text: 'Frames (outermost first):' }), h('div', { class: 'folded', text: folded })) : h('div', { class: 'note', text: 'No frames recorded for this stack.' });
    }
    const frames = arr(stack.frames);
    const list = h('ol', { class: 'frames' });
    for (const f of frames) {
      const loc = f.file ? basename(f.file) + (f.line ? ':' + f.line : '') : '';
      const li = h('li', { class: (f.inlined ? 'inlined' : '') + (isSystemFrame(f) ? ' system' : ''), title: f.file ? f.file + (f.line ? ':' + f.line : '') : null },
        h('span', { class: 'f-fn' }, f.function || '?', f.inlined ? ' ' : null, f.inlined ? h('span', { class: 'badge inlined', title: 'inlined into the frame below', text: 'inlined' }) : null,
          f.status && f.status !== 'ok' ? ' ' : null, f.status && f.status !== 'ok' ? h('span', { class: 'badge ' + f.status, text: f.status }) : null),
        h('span', { class: 'f-loc', text: loc || (isNum(f.offset) ? '+0x' + f.offset.toString(16) : '') }),
        h('span', { class: 'f-mod', text: basename(f.module || '') || '—', title: f.module || null }));
      list.appendChild(li);
    }
    const extra = [];
    if (isNum(stack.addresses) && stack.addresses > 1) extra.push(fmtCount(stack.addresses) + ' recorded stacks symbolise alike');
    if (isNum(stack.max_realloc_chain) && stack.max_realloc_chain > 1) extra.push('longest realloc chain ' + fmtCount(stack.max_realloc_chain));
    return h('div', { class: 'frames-box', dataset: { frames: String(frames.length) } },
      h('div', { class: 'frames-head' }, h('span', { text: frames.length + ' frames, innermost first' }), extra.length ? h('span', { text: '· ' + extra.join(' · ') }) : null),
      frames.length ? list : h('div', { class: 'folded', text: stack.stack || '' }));
  }

  // ---------------------------------------------------------------------
  // Tables: sortable headers, a filter, pages of rows, rows that open.

  function tableState (key, sort) {
    let st = ui.tables.get(key);
    if (!st) {
      st = { sort: sort ? sort[0] : null, dir: sort ? sort[1] : 'desc', q: '', limit: 0, open: new Set() };
      ui.tables.set(key, st);
    }
    return st;
  }

  // columns: {key, label, type (count|bytes|pct|ns|rate|brate|num|text),
  //   get(row), cell(row) -> node|string, title(row), cls, est, sort(row)}
  function dataTable (o) {
    const pageSize = o.pageSize || 100;
    const st = tableState(o.key, o.sort);
    if (!st.limit) st.limit = pageSize;
    const cols = o.columns;
    const table = h('table', { class: 'data' + (M.estimated ? ' estimated' : ''), dataset: { table: o.key } });
    const thead = h('thead');
    const tbody = h('tbody');
    const foot = h('div', { class: 'table-foot' });
    const count = h('span', { class: 'count' });
    let filtered = [];

    const valueOf = (c, r) => (c.sort ? c.sort(r) : c.get ? c.get(r) : r[c.key]);

    function headRow () {
      const tr = h('tr');
      if (o.expand) tr.appendChild(h('th', { style: 'width:22px' }));
      for (const c of cols) {
        const numeric = c.type && c.type !== 'text';
        const th = h('th', { class: numeric ? 'num' : null, scope: 'col', dataset: { col: c.key }, title: c.help || null });
        if (st.sort === c.key) th.setAttribute('aria-sort', st.dir === 'asc' ? 'ascending' : 'descending');
        const arrow = h('span', { class: 'arrow', text: st.sort === c.key ? (st.dir === 'asc' ? '▲' : '▼') : '↕' });
        const btn = h('button', { type: 'button' }, numeric ? arrow : null, h('span', { text: c.label }), c.est && M.estimated ? estBadge() : null, numeric ? null : arrow);
        btn.addEventListener('click', () => {
          if (st.sort === c.key) st.dir = st.dir === 'asc' ? 'desc' : 'asc';
          else {
            st.sort = c.key;
            st.dir = numeric ? 'desc' : 'asc';
          }
          refresh();
        });
        th.appendChild(btn);
        tr.appendChild(th);
      }
      thead.replaceChildren(tr);
    }

    function rowKey (r, i) {
      return o.rowKey ? String(o.rowKey(r)) : String(i);
    }

    function buildRow (r, i) {
      const key = rowKey(r, i);
      const tr = h('tr', { class: 'row' + (o.expand || o.onRow ? ' clickable' : '') + (o.rowClass ? ' ' + (o.rowClass(r) || '') : ''), dataset: { key } });
      if (o.expand) tr.appendChild(h('td', { class: 'dim' }, h('span', { class: 'twisty', text: '▶' })));
      for (const c of cols) {
        const numeric = c.type && c.type !== 'text';
        const v = c.get ? c.get(r) : r[c.key];
        let content = c.cell ? c.cell(r) : (FORMAT[c.type || 'text'] || FORMAT.text)(v);
        const td = h('td', { class: [numeric ? 'num' : '', c.cls || '', c.est && M.estimated ? 'est' : ''].join(' ').trim() || null, dataset: { col: c.key } });
        const title = c.title ? c.title(r) : c.type === 'bytes' && isNum(v) ? fmtBytesExact(v) : null;
        if (title) td.title = title;
        put(td, [content]);
        tr.appendChild(td);
      }
      if (o.expand || o.onRow) {
        tr.tabIndex = 0;
        tr.addEventListener('keydown', (ev) => {
          if (ev.target !== tr || (ev.key !== 'Enter' && ev.key !== ' ')) return;
          ev.preventDefault();
          tr.click();
        });
      }
      tr.addEventListener('click', (ev) => {
        if (ev.target.closest('a, button, input, select')) return;
        if (o.expand) toggle(tr, r, key);
        if (o.onRow) o.onRow(r, tr, st.open.has(key));
      });
      return tr;
    }

    function detailRow (r) {
      return h('tr', { class: 'detail' }, h('td', { colspan: String(cols.length + 1) }, o.expand(r)));
    }

    function toggle (tr, r, key) {
      const next = tr.nextElementSibling;
      if (st.open.has(key)) {
        st.open.delete(key);
        tr.classList.remove('open');
        if (next && next.classList.contains('detail')) next.remove();
      } else {
        if (o.single) {
          for (const k of st.open) {
            const other = tbody.querySelector('tr.row[data-key="' + cssEscape(k) + '"]');
            if (other) {
              other.classList.remove('open');
              if (other.nextElementSibling && other.nextElementSibling.classList.contains('detail')) other.nextElementSibling.remove();
            }
          }
          st.open.clear();
        }
        st.open.add(key);
        tr.classList.add('open');
        tr.after(detailRow(r));
      }
    }

    function refresh () {
      const q = st.q.trim().toLowerCase();
      filtered = o.rows.filter((r) => (!o.filter || o.filter(r)) && (!q || !o.search || o.search(r).toLowerCase().includes(q)));
      const col = cols.find((c) => c.key === st.sort);
      if (col) {
        const sign = st.dir === 'asc' ? 1 : -1;
        const decorated = filtered.map((r, i) => [valueOf(col, r), i, r]);
        decorated.sort((a, b) => {
          const x = a[0];
          const y = b[0];
          const xn = x == null || (typeof x === 'number' && !isFinite(x));
          const yn = y == null || (typeof y === 'number' && !isFinite(y));
          if (xn || yn) return xn === yn ? a[1] - b[1] : xn ? 1 : -1; // nulls last either way
          if (typeof x === 'string' || typeof y === 'string') {
            const c = String(x).localeCompare(String(y));
            return c ? sign * c : a[1] - b[1];
          }
          return x === y ? a[1] - b[1] : sign * (x < y ? -1 : 1);
        });
        filtered = decorated.map((d) => d[2]);
      }
      headRow();
      const frag = document.createDocumentFragment();
      const n = Math.min(filtered.length, st.limit);
      for (let i = 0; i < n; i++) {
        const r = filtered[i];
        const tr = buildRow(r, i);
        frag.appendChild(tr);
        if (o.expand && st.open.has(tr.dataset.key)) {
          tr.classList.add('open');
          frag.appendChild(detailRow(r));
        }
      }
      tbody.replaceChildren(frag);
      if (!filtered.length) {
        tbody.appendChild(h('tr', null, h('td', { colspan: String(cols.length + (o.expand ? 1 : 0)) },
          emptyNote(o.rows.length ? 'Nothing matches the filter.' : (o.empty || 'Nothing to show.')))));
      }
      table.dataset.total = String(filtered.length);
      table.dataset.shown = String(n);
      count.textContent = filtered.length === o.rows.length
        ? fmtCount(o.rows.length) + ' ' + (o.noun || 'rows')
        : fmtCount(filtered.length) + ' of ' + fmtCount(o.rows.length) + ' ' + (o.noun || 'rows');
      foot.replaceChildren();
      if (filtered.length > n) {
        foot.appendChild(h('span', { text: 'Showing ' + fmtCount(n) + ' of ' + fmtCount(filtered.length) }));
        foot.appendChild(h('button', { type: 'button', class: 'btn small', text: 'Show ' + fmtCount(Math.min(pageSize, filtered.length - n)) + ' more', onclick: () => { st.limit += pageSize; refresh(); } }));
        if (filtered.length <= 5000) foot.appendChild(h('button', { type: 'button', class: 'btn small', text: 'Show all', onclick: () => { st.limit = filtered.length; refresh(); } }));
      }
      if (o.after) o.after(filtered);
    }

    table.append(thead, tbody);
    const searchEl = o.search ? searchBox(o.searchPlaceholder || 'Filter…', st.q, (v) => { st.q = v; st.limit = pageSize; refresh(); }) : null;
    if (searchEl) searchEl.dataset.search = o.key;
    const toolbar = h('div', { class: 'toolbar' }, searchEl, o.tools || null, count);
    refresh();
    return {
      toolbar,
      el: h('div', null, h('div', { class: 'table-wrap' }, table), foot),
      refresh,
      state: st,
      rowsShown: () => filtered,
      open (key) {
        const tr = tbody.querySelector('tr.row[data-key="' + cssEscape(String(key)) + '"]');
        if (tr && !st.open.has(String(key))) tr.click();
        return tr;
      },
    };
  }

  function cssEscape (s) {
    return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, '\\$&');
  }

  // Column sets shared by several stack tables.
  function fnCell (r) {
    return h('span', { title: r.stack || null }, r.function || '?');
  }

  function locCell (r) {
    return h('span', { title: r.location || null, text: shortLocation(r.location) || '—' });
  }

  const COL_FN = { key: 'function', label: 'Function', type: 'text', cls: 'fn', cell: fnCell };
  const COL_LOC = { key: 'location', label: 'Location', type: 'text', cls: 'loc', cell: locCell, get: (r) => r.location || '' };

  function stackSearch (r) {
    return (r.function || '') + ' ' + (r.location || '') + ' ' + (r.stack || '');
  }

  function stackExpand (r) {
    return framesView(stackOf(r), r.stack);
  }

  // A table of stack groups (hot stacks, leaks, peak, temporary): rows
  // open on their frames and the search looks through every frame's name.
  // A PID column where rows of several processes are listed together.
  function pidColumns () {
    return M.multi && !scope().proc ? [{ key: 'pid', label: 'PID', type: 'count', cell: (r) => FORMAT.text(r.pid) }] : [];
  }

  function stackTable (o) {
    return dataTable(Object.assign({
      rowKey: (r) => r.stack_id,
      search: stackSearch,
      searchPlaceholder: 'Search functions, files…',
      expand: stackExpand,
      noun: 'stacks',
    }, o, { columns: [{ key: 'rank', label: '#', type: 'count' }, COL_FN, COL_LOC].concat(pidColumns(), o.columns) }));
  }

  function tablePanel (main, title, tbl, opts) {
    const o = Object.assign({ flush: true }, opts || {});
    if (title != null) {
      o.tools = tbl.toolbar;
      return main.appendChild(panel(title, o, tbl.el));
    }
    return main.appendChild(panel(null, o, h('div', { class: 'panel-head' }, tbl.toolbar), tbl.el));
  }

  // ---------------------------------------------------------------------
  // Tooltip (one, fixed-positioned, filled with text nodes)

  function showTip (ev, title, rows) {
    const tip = $('#tooltip');
    tip.replaceChildren();
    if (title) tip.appendChild(h('div', { class: 'tt-title', text: title }));
    for (const r of rows || []) {
      if (!r) continue;
      tip.appendChild(h('div', { class: 'tt-row' },
        h('span', { class: 'k' + (r.cls ? ' ' + r.cls : '') }, r.cls ? h('i') : null, h('span', { text: r.k })),
        h('span', { class: r.mono ? 'tt-mono' : null, text: r.v })));
    }
    tip.hidden = false;
    const pad = 14;
    const w = tip.offsetWidth;
    const hgt = tip.offsetHeight;
    let x = ev.clientX + pad;
    let y = ev.clientY + pad;
    if (x + w > window.innerWidth - 8) x = Math.max(8, ev.clientX - w - pad);
    if (y + hgt > window.innerHeight - 8) y = Math.max(8, ev.clientY - hgt - pad);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }

  function hideTip () {
    const tip = $('#tooltip');
    if (tip) tip.hidden = true;
  }

  // ---------------------------------------------------------------------
  // Scales and ticks

  function niceStep (range, n) {
    if (!(range > 0)) return 1;
    const raw = range / n;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / p;
    const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return nice * p;
  }

  function ticks (lo, hi, n) {
    const step = niceStep(hi - lo, n);
    const out = [];
    const start = Math.ceil(lo / step) * step;
    for (let v = start; v <= hi + step * 1e-9 && out.length < 50; v += step) out.push(v);
    return out;
  }

  const AXIS_FMT = {
    pct: (v) => fmtShort(v) + ' %',
    count: fmtShort,
    rate: (v) => fmtShort(v) + '/s',
    num: fmtShort,
  };

  // A value axis from 0: a round maximum above the data, about N ticks, and
  // their labels. Bytes count in the binary unit of the maximum, so that
  // every label of one axis has the same unit (0.5 GiB, 1 GiB, 1.5 GiB).
  function valueAxis (unit, dataMax, n, fixedMax) {
    const binary = unit === 'bytes' || unit === 'brate';
    let base = 1;
    let u = 0;
    while (binary && dataMax * 1.05 / (base * 1024) >= 1 && u < BYTE_UNITS.length - 1) {
      base *= 1024;
      u++;
    }
    let max = fixedMax;
    if (max == null) {
      const x = dataMax * 1.05 / base;
      max = x > 0 ? Math.ceil(x / niceStep(x, n)) * niceStep(x, n) * base : 1;
    }
    const fmt = binary
      ? (v) => (v === 0 ? '0' : +(v / base).toFixed(2) + ' ' + BYTE_UNITS[u] + (unit === 'brate' ? '/s' : ''))
      : AXIS_FMT[unit] || AXIS_FMT.num;
    return { max, ticks: ticks(0, max / base, n).map((v) => v * base), fmt };
  }

  const VALUE_FMT = {
    bytes: (v) => fmtBytes(v) + (isNum(v) && v >= 1024 ? '  (' + NUM.format(Math.round(v)) + ')' : ''),
    pct: (v) => fmtPct(v),
    count: fmtCount,
    rate: fmtRate,
    brate: fmtBytesRate,
    num: (v) => (isNum(v) ? fmtFixed(v, 2) : '—'),
  };

  function bsearch (pts, t) {
    let lo = 0;
    let hi = pts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pts[mid][0] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // ---------------------------------------------------------------------
  // Time charts: several series over time, hover read-out, brush to zoom.
  // Charts of one view share a zoom, so the time ranges stay aligned.

  // A zoom over the scope's time: a child process starts zoomed on its own
  // life, which can be a small part of the run.
  function makeZoom (key, sc, full) {
    const saved = ui.zoom.get(key);
    const life = sc.proc ? processSpan(sc.proc, full) : null;
    const z = {
      full,
      dom: saved && saved[0] >= full[0] && saved[1] <= full[1] && saved[1] > saved[0] ? saved.slice() : life || full.slice(),
      charts: [],
      listeners: [],
      set (a, b) {
        const span = full[1] - full[0];
        const minSpan = Math.max(span / 2000, 1);
        if (b - a < minSpan) {
          const c = (a + b) / 2;
          a = c - minSpan / 2;
          b = c + minSpan / 2;
        }
        if (a < full[0]) { b += full[0] - a; a = full[0]; }
        if (b > full[1]) { a -= b - full[1]; b = full[1]; }
        z.dom = [Math.max(full[0], a), Math.min(full[1], b)];
        ui.zoom.set(key, z.dom.slice());
        for (const c of z.charts) c.draw();
        for (const f of z.listeners) f();
      },
      reset () { z.set(full[0], full[1]); },
      zoomed () { return z.dom[0] > full[0] || z.dom[1] < full[1]; },
      scale (f) {
        const c = (z.dom[0] + z.dom[1]) / 2;
        const half = (z.dom[1] - z.dom[0]) * f / 2;
        z.set(c - half, c + half);
      },
    };
    return z;
  }

  // From a process' first allocation or sample to its last, with a margin;
  // null when that is most of the run anyway.
  function processSpan (proc, full) {
    const tl = obj(proc.timeline);
    const bucket = tl.bucket_ns || 0;
    let a = Infinity;
    let b = -Infinity;
    for (const p of arr(tl.points)) {
      if (p.allocations > 0 || p.frees > 0 || p.live_bytes > 0) {
        a = Math.min(a, p.time_ns);
        b = Math.max(b, p.time_ns + bucket);
      }
    }
    for (const p of resourceSeries(proc)) {
      a = Math.min(a, p.time_ns);
      b = Math.max(b, p.time_ns);
    }
    if (!(b > a)) return null;
    const pad = (b - a) * 0.05;
    a = Math.max(full[0], a - pad);
    b = Math.min(full[1], b + pad);
    return b - a < (full[1] - full[0]) * 0.8 ? [a, b] : null;
  }

  function zoomTools (z) {
    const out = h('button', { type: 'button', class: 'btn small', text: '− Zoom out', dataset: { zoom: 'out' }, onclick: () => z.scale(2) });
    const inn = h('button', { type: 'button', class: 'btn small', text: '+ Zoom in', dataset: { zoom: 'in' }, onclick: () => z.scale(0.5) });
    const reset = h('button', { type: 'button', class: 'btn small', text: 'Reset', dataset: { zoom: 'reset' }, onclick: () => z.reset() });
    const label = h('span', { class: 'note' });
    const sync = () => {
      reset.disabled = !z.zoomed();
      out.disabled = !z.zoomed();
      label.textContent = z.zoomed() ? fmtNs(z.dom[0]) + ' – ' + fmtNs(z.dom[1]) : 'Drag across a chart to zoom';
    };
    z.listeners.push(sync);
    sync();
    return h('div', { class: 'toolbar' }, label, inn, out, reset);
  }

  // Keeps at most two points (the lowest and highest) per pixel column, so
  // that a series of any length draws fast and no spike disappears.
  function decimate (pts, x0, x1, width) {
    if (!pts.length) return pts;
    let i0 = Math.max(0, bsearch(pts, x0) - 1);
    let i1 = Math.min(pts.length - 1, bsearch(pts, x1));
    const vis = pts.slice(i0, i1 + 1);
    if (vis.length <= width * 2) return vis;
    const out = [];
    const span = (x1 - x0) || 1;
    let col = -1;
    let lo = null;
    let hi = null;
    for (const p of vis) {
      const c = Math.floor((p[0] - x0) / span * width);
      if (c !== col) {
        if (lo) out.push(lo[0] <= hi[0] ? lo : hi, lo[0] <= hi[0] ? hi : lo);
        col = c;
        lo = hi = p;
      } else {
        if (p[1] < lo[1]) lo = p;
        if (p[1] > hi[1]) hi = p;
      }
    }
    if (lo) out.push(lo[0] <= hi[0] ? lo : hi, lo[0] <= hi[0] ? hi : lo);
    return out;
  }

  // o: {series: [{name, cls, pts: [[t, v|null]], kind: 'area'|'line', dashed, axis: 'l'|'r'}],
  //     unit, unit2, height, zoom, markers: [{t, label}], yMax}
  function timeChart (parent, o) {
    const wrap = h('div', { class: 'chart', dataset: { chart: o.id || '' } });
    parent.appendChild(wrap);
    const height = o.height || 220;
    const z = o.zoom;
    const hasR = o.series.some((s) => s.axis === 'r');
    const m = { l: 66, r: hasR ? 66 : 14, t: 10, b: 24 };
    let svgEl = null;
    let state = null;

    function draw () {
      const width = Math.max(320, wrap.clientWidth || parent.clientWidth || 800);
      const iw = width - m.l - m.r;
      const ih = height - m.t - m.b;
      const [x0, x1] = z.dom;
      const sx = (t) => m.l + (t - x0) / ((x1 - x0) || 1) * iw;
      const visible = o.series.map((s) => decimate(s.pts.filter((p) => p[1] != null), x0, x1, iw));
      const maxOf = (axis) => {
        let mx = 0;
        o.series.forEach((s, i) => {
          if ((s.axis || 'l') !== axis) return;
          for (const p of visible[i]) if (p[0] >= x0 - 1e-9 && p[0] <= x1 + 1e-9 && p[1] > mx) mx = p[1];
        });
        return mx;
      };
      const fixed = o.yMax;
      const axL = valueAxis(o.unit, maxOf('l'), 4, fixed);
      const axR = hasR ? valueAxis(o.unit2, maxOf('r'), 4) : null;
      const yMaxL = axL.max;
      const yMaxR = axR ? axR.max : 1;
      const syL = (v) => m.t + ih - v / yMaxL * ih;
      const syR = (v) => m.t + ih - v / yMaxR * ih;

      const root = svg('svg', { width: String(width), height: String(height), role: 'img', 'aria-label': o.label || 'chart' });
      const clipId = 'clip' + Math.random().toString(36).slice(2);
      root.appendChild(svg('defs', null, svg('clipPath', { id: clipId }, svg('rect', { x: String(m.l), y: String(m.t - 2), width: String(iw), height: String(ih + 4) }))));
      const axis = svg('g', { class: 'axis' });
      for (const v of axL.ticks) {
        const y = syL(v);
        axis.appendChild(svg('line', { class: 'gridline', x1: String(m.l), x2: String(m.l + iw), y1: y.toFixed(1), y2: y.toFixed(1) }));
        axis.appendChild(svg('text', { x: String(m.l - 8), y: (y + 4).toFixed(1), 'text-anchor': 'end' }, axL.fmt(v)));
      }
      if (hasR) {
        for (const v of axR.ticks) {
          axis.appendChild(svg('text', { x: String(m.l + iw + 8), y: (syR(v) + 4).toFixed(1), 'text-anchor': 'start' }, axR.fmt(v)));
        }
      }
      const xt = ticks(x0, x1, Math.max(2, Math.floor(iw / 110)));
      for (const t of xt) {
        const x = sx(t);
        axis.appendChild(svg('line', { x1: x.toFixed(1), x2: x.toFixed(1), y1: String(m.t + ih), y2: String(m.t + ih + 4) }));
        axis.appendChild(svg('text', { x: x.toFixed(1), y: String(m.t + ih + 17), 'text-anchor': 'middle' }, fmtNsAxis(t)));
      }
      axis.appendChild(svg('line', { x1: String(m.l), x2: String(m.l + iw), y1: String(m.t + ih + 0.5), y2: String(m.t + ih + 0.5) }));
      root.appendChild(axis);

      const plot = svg('g', { 'clip-path': 'url(#' + clipId + ')' });
      o.series.forEach((s, i) => {
        const pts = visible[i];
        if (!pts.length) return;
        const sy = s.axis === 'r' ? syR : syL;
        let d = '';
        pts.forEach((p, j) => { d += (j ? 'L' : 'M') + sx(p[0]).toFixed(1) + ',' + sy(p[1]).toFixed(1); });
        if (s.kind === 'area') {
          const base = sy(0).toFixed(1);
          plot.appendChild(svg('path', { class: 'area ' + s.cls, d: d + 'L' + sx(pts[pts.length - 1][0]).toFixed(1) + ',' + base + 'L' + sx(pts[0][0]).toFixed(1) + ',' + base + 'Z' }));
        }
        plot.appendChild(svg('path', { class: 'line ' + s.cls + (s.dashed ? ' dashed' : ''), d }));
      });
      for (const mk of o.markers || []) {
        if (!(mk.t >= x0 && mk.t <= x1)) continue;
        const x = sx(mk.t);
        // The label goes on the side of the line that has room for it.
        const left = x > m.l + iw - 110;
        plot.appendChild(svg('g', { class: 'marker' },
          svg('line', { x1: x.toFixed(1), x2: x.toFixed(1), y1: String(m.t), y2: String(m.t + ih) }),
          svg('text', { x: (left ? x - 5 : x + 5).toFixed(1), y: String(m.t + 11), 'text-anchor': left ? 'end' : 'start' }, mk.label)));
      }
      root.appendChild(plot);

      const cursor = svg('line', { class: 'cursor', y1: String(m.t), y2: String(m.t + ih), visibility: 'hidden' });
      const dots = svg('g');
      const brush = svg('rect', { class: 'brush', y: String(m.t), height: String(ih), visibility: 'hidden' });
      const overlay = svg('rect', { class: 'overlay', x: String(m.l), y: String(m.t), width: String(iw), height: String(ih) });
      root.append(cursor, dots, brush, overlay);
      state = { sx, syL, syR, iw, m, overlay, cursor, dots, brush, x0, x1 };
      wireOverlay(state);
      if (svgEl) svgEl.replaceWith(root);
      else wrap.appendChild(root);
      svgEl = root;
      wrap.dataset.x0 = String(Math.round(x0));
      wrap.dataset.x1 = String(Math.round(x1));
    }

    function wireOverlay (s) {
      let dragFrom = null;
      const tAt = (ev) => {
        const r = s.overlay.getBoundingClientRect();
        const fx = Math.max(0, Math.min(1, (ev.clientX - r.left) / (r.width || 1)));
        return s.x0 + fx * (s.x1 - s.x0);
      };
      s.overlay.addEventListener('mousemove', (ev) => {
        const t = tAt(ev);
        if (dragFrom != null) {
          const a = Math.min(dragFrom, t);
          const b = Math.max(dragFrom, t);
          s.brush.setAttribute('x', s.sx(a).toFixed(1));
          s.brush.setAttribute('width', Math.max(0, s.sx(b) - s.sx(a)).toFixed(1));
          s.brush.setAttribute('visibility', 'visible');
        }
        readout(ev, t, s);
      });
      s.overlay.addEventListener('mouseleave', () => {
        s.cursor.setAttribute('visibility', 'hidden');
        s.dots.replaceChildren();
        hideTip();
      });
      s.overlay.addEventListener('mousedown', (ev) => {
        ev.preventDefault();
        dragFrom = tAt(ev);
        const up = (e2) => {
          window.removeEventListener('mouseup', up);
          const to = tAt(e2);
          const from = dragFrom;
          dragFrom = null;
          s.brush.setAttribute('visibility', 'hidden');
          if (Math.abs(s.sx(to) - s.sx(from)) >= 6) z.set(Math.min(from, to), Math.max(from, to));
        };
        window.addEventListener('mouseup', up);
      });
      s.overlay.addEventListener('dblclick', () => z.reset());
    }

    function readout (ev, t, s) {
      const rows = [];
      let snap = null;
      s.dots.replaceChildren();
      o.series.forEach((ser) => {
        const pts = ser.pts;
        if (!pts.length) return;
        let i = bsearch(pts, t);
        if (i > 0 && Math.abs(pts[i - 1][0] - t) < Math.abs(pts[i][0] - t)) i--;
        const p = pts[i];
        if (snap == null) snap = p[0];
        rows.push({ k: ser.name, v: p[1] == null ? '—' : (VALUE_FMT[ser.axis === 'r' ? o.unit2 : o.unit] || VALUE_FMT.num)(p[1]), cls: ser.cls });
        if (p[1] != null && p[0] >= s.x0 && p[0] <= s.x1) {
          s.dots.appendChild(svg('circle', { class: 'dot ' + ser.cls, cx: s.sx(p[0]).toFixed(1), cy: (ser.axis === 'r' ? s.syR : s.syL)(p[1]).toFixed(1), r: '3.5' }));
        }
      });
      if (snap != null) {
        const x = s.sx(snap).toFixed(1);
        s.cursor.setAttribute('x1', x);
        s.cursor.setAttribute('x2', x);
        s.cursor.setAttribute('visibility', 'visible');
      }
      showTip(ev, 'at ' + fmtNs(snap != null ? snap : t), rows);
    }

    const chart = { draw, el: wrap };
    z.charts.push(chart);
    draw();
    return chart;
  }

  function legend (series) {
    return h('div', { class: 'legend' }, series.map((s) => h('span', { class: s.cls }, h('i', { class: s.dashed ? 'dashed' : null }), h('span', { style: 'color:var(--fg-2)', text: s.name }))));
  }

  // Heap series from the scope's timeline: live bytes at each bucket's end,
  // and the most that was live within it (so that no peak is lost). What
  // is live after the last event stays so until the scope's end.
  function heapSeries (sc, duration) {
    const tl = sc.timeline;
    const pts = arr(tl.points);
    const bucket = tl.bucket_ns || 0;
    const live = [[0, 0]];
    const max = [[0, 0]];
    for (const p of pts) {
      const end = Math.min(p.time_ns + bucket, duration || p.time_ns + bucket);
      live.push([end, p.live_bytes]);
      max.push([Math.min(p.time_ns + bucket / 2, end), p.live_max_bytes]);
    }
    let last = sc.proc ? 0 : duration;
    for (const p of sc.seriesProcs) {
      const s = resourceSeries(p);
      if (s.length) last = Math.max(last, s[s.length - 1].time_ns);
    }
    const tail = live[live.length - 1];
    if (pts.length && last > tail[0]) {
      live.push([last, tail[1]]);
      max.push([tail[0], tail[1]], [last, tail[1]]);
    }
    return { live, max };
  }

  function rateSeries (tl, key) {
    const bucket = tl.bucket_ns || 0;
    if (!bucket) return [];
    return arr(tl.points).map((p) => [p.time_ns + bucket / 2, (p[key] || 0) / (bucket / 1e9)]);
  }

  function seriesOf (points, key, scale) {
    return points.map((p) => [p.time_ns, p[key] == null ? null : p[key] * (scale || 1)]);
  }

  // The RSS of the scope's processes, summed where several are followed.
  function rssSeries (sc) {
    const procs = sc.seriesProcs.filter((p) => resourceSeries(p).length);
    if (!procs.length) return [];
    if (procs.length === 1) return seriesOf(resourceSeries(procs[0]), 'rss_bytes');
    return sumSeries(procs.map((p) => resourceSeries(p)), 'rss_bytes');
  }

  // Sums a key over several series sampled at slightly different times:
  // each one's last value holds until its next sample.
  function sumSeries (list, key) {
    const times = [];
    for (const s of list) for (const p of s) times.push(p.time_ns);
    times.sort((a, b) => a - b);
    const uniq = times.filter((t, i) => i === 0 || t !== times[i - 1]);
    const idx = list.map(() => -1);
    return uniq.map((t) => {
      let sum = 0;
      let any = false;
      list.forEach((s, k) => {
        while (idx[k] + 1 < s.length && s[idx[k] + 1].time_ns <= t) idx[k]++;
        const p = s[idx[k]];
        if (p && p[key] != null && (idx[k] < s.length - 1 || p.time_ns >= t - 1)) {
          sum += p[key];
          any = true;
        }
      });
      return [t, any ? sum : null];
    });
  }

  function durationOf (sc) {
    let d = sc.totals.duration_ns || 0;
    const tl = sc.timeline;
    const pts = arr(tl.points);
    if (pts.length) d = Math.max(d, pts[pts.length - 1].time_ns + (tl.bucket_ns || 0));
    for (const p of sc.seriesProcs) {
      const s = resourceSeries(p);
      if (s.length) d = Math.max(d, s[s.length - 1].time_ns);
    }
    if (!sc.proc) {
      const sp = systemPoints();
      if (sp.length) d = Math.max(d, sp[sp.length - 1].time_ns);
    }
    return d || 1;
  }

  // ---------------------------------------------------------------------
  // Other charts: histogram bars, scatter plot with fitted line, heat map

  function barChart (parent, o) {
    const wrap = h('div', { class: 'chart', dataset: { chart: o.id || 'bars' } });
    parent.appendChild(wrap);
    const bars = o.bars;
    if (!bars.length) {
      wrap.appendChild(h('div', { class: 'chart-empty', text: o.empty || 'No data.' }));
      return wrap;
    }
    const width = Math.max(320, wrap.clientWidth || 700);
    const height = o.height || 240;
    const m = { l: 66, r: 10, t: 10, b: 40 };
    const iw = width - m.l - m.r;
    const ih = height - m.t - m.b;
    const ax = valueAxis(o.unit || 'count', Math.max(...bars.map((b) => b.value)), 4);
    const max = ax.max;
    const bw = iw / bars.length;
    const root = svg('svg', { width: String(width), height: String(height), role: 'img', 'aria-label': o.label || 'bar chart' });
    const axis = svg('g', { class: 'axis' });
    for (const v of ax.ticks) {
      const y = m.t + ih - v / max * ih;
      axis.appendChild(svg('line', { class: 'gridline', x1: String(m.l), x2: String(m.l + iw), y1: y.toFixed(1), y2: y.toFixed(1) }));
      axis.appendChild(svg('text', { x: String(m.l - 8), y: (y + 4).toFixed(1), 'text-anchor': 'end' }, ax.fmt(v)));
    }
    const every = Math.max(1, Math.ceil(bars.length / Math.max(1, Math.floor(iw / 64))));
    bars.forEach((b, i) => {
      const bh = b.value / max * ih;
      const x = m.l + i * bw;
      const rect = svg('rect', { class: 'hbar', x: (x + Math.min(4, bw * 0.12)).toFixed(1), y: (m.t + ih - bh).toFixed(1), width: Math.max(1, bw - Math.min(8, bw * 0.24)).toFixed(1), height: Math.max(bh, b.value > 0 ? 1 : 0).toFixed(1), rx: '2' });
      rect.addEventListener('mousemove', (ev) => showTip(ev, b.title || b.label, b.rows || []));
      rect.addEventListener('mouseleave', hideTip);
      root.appendChild(rect);
      if (i % every === 0) axis.appendChild(svg('text', { x: (x + bw / 2).toFixed(1), y: String(m.t + ih + 16), 'text-anchor': 'middle' }, b.label));
    });
    axis.appendChild(svg('line', { x1: String(m.l), x2: String(m.l + iw), y1: String(m.t + ih + 0.5), y2: String(m.t + ih + 0.5) }));
    if (o.xLabel) axis.appendChild(svg('text', { class: 'axis-label', x: String(m.l + iw / 2), y: String(height - 4), 'text-anchor': 'middle' }, o.xLabel));
    root.insertBefore(axis, root.firstChild);
    wrap.appendChild(root);
    return wrap;
  }

  function scatterChart (parent, o) {
    const wrap = h('div', { class: 'chart', dataset: { chart: o.id || 'scatter' } });
    parent.appendChild(wrap);
    const pts = o.points.filter((p) => isNum(p.x) && isNum(p.y));
    const width = Math.max(300, wrap.clientWidth || 520);
    const height = o.height || 260;
    const m = { l: 66, r: 14, t: 12, b: 40 };
    const iw = width - m.l - m.r;
    const ih = height - m.t - m.b;
    let xmax = Math.max(1, ...pts.map((p) => p.x));
    let ymax = Math.max(1, ...pts.map((p) => p.y));
    const line = o.line;
    if (line && !pts.length) {
      xmax = o.xMax || 100;
      ymax = Math.max(1, line.intercept, line.slope * xmax + line.intercept);
    }
    const ax = valueAxis(o.xUnit || 'num', xmax, Math.max(2, Math.floor(iw / 90)));
    const ay = valueAxis(o.yUnit || 'num', ymax, 4);
    xmax = ax.max;
    ymax = ay.max;
    const sx = (v) => m.l + v / xmax * iw;
    const sy = (v) => m.t + ih - v / ymax * ih;
    const root = svg('svg', { width: String(width), height: String(height), role: 'img', 'aria-label': o.label || 'scatter plot' });
    const axis = svg('g', { class: 'axis' });
    for (const v of ay.ticks) {
      axis.appendChild(svg('line', { class: 'gridline', x1: String(m.l), x2: String(m.l + iw), y1: sy(v).toFixed(1), y2: sy(v).toFixed(1) }));
      axis.appendChild(svg('text', { x: String(m.l - 8), y: (sy(v) + 4).toFixed(1), 'text-anchor': 'end' }, ay.fmt(v)));
    }
    for (const v of ax.ticks) {
      axis.appendChild(svg('line', { class: 'gridline', x1: sx(v).toFixed(1), x2: sx(v).toFixed(1), y1: String(m.t), y2: String(m.t + ih) }));
      axis.appendChild(svg('text', { x: sx(v).toFixed(1), y: String(m.t + ih + 16), 'text-anchor': 'middle' }, ax.fmt(v)));
    }
    axis.appendChild(svg('text', { class: 'axis-label', x: String(m.l + iw / 2), y: String(height - 4), 'text-anchor': 'middle' }, o.xLabel || ''));
    axis.appendChild(svg('text', { class: 'axis-label', x: '12', y: String(m.t + ih / 2), 'text-anchor': 'middle', transform: 'rotate(-90 12 ' + (m.t + ih / 2) + ')' }, o.yLabel || ''));
    root.appendChild(axis);
    if (line) {
      // Clip the fitted line to the plot rectangle.
      const xa = 0;
      const xb = xmax;
      let ya = line.slope * xa + line.intercept;
      let yb = line.slope * xb + line.intercept;
      const clipId = 'clip' + Math.random().toString(36).slice(2);
      root.appendChild(svg('defs', null, svg('clipPath', { id: clipId }, svg('rect', { x: String(m.l), y: String(m.t), width: String(iw), height: String(ih) }))));
      root.appendChild(svg('path', { class: 'fitline', 'clip-path': 'url(#' + clipId + ')', d: 'M' + sx(xa).toFixed(1) + ',' + sy(ya).toFixed(1) + 'L' + sx(xb).toFixed(1) + ',' + sy(yb).toFixed(1) }));
    }
    for (const p of pts) {
      const c = svg('circle', { class: 'pt', cx: sx(p.x).toFixed(1), cy: sy(p.y).toFixed(1), r: pts.length > 300 ? '2.5' : '4.5' });
      c.addEventListener('mousemove', (ev) => showTip(ev, p.label, [{ k: o.xLabel, v: VALUE_FMT[o.xUnit || 'num'](p.x) }, { k: o.yLabel, v: VALUE_FMT[o.yUnit || 'num'](p.y) }]));
      c.addEventListener('mouseleave', hideTip);
      root.appendChild(c);
    }
    wrap.appendChild(root);
    wrap.dataset.points = String(pts.length);
    return wrap;
  }

  // ---------------------------------------------------------------------
  // Views

  function threadLabel (tid, name) {
    return String(tid) + (name ? ' ' + name : '');
  }

  function viewOverview (main) {
    const sc = scope();
    const T = sc.totals;
    const t = M.trace;
    const est = M.estimated;
    main.appendChild(pageHead(sc.proc ? 'Process ' + sc.proc.pid + ' — ' + sc.proc.program : 'Overview',
      sc.proc ? sc.proc.command_line : 'What ' + (t.program || 'the program') + ' allocated, held and leaked, and where.'));

    const tempPct = T.allocations ? 100 * (T.temporary_allocations || 0) / T.allocations : null;
    const peakWhen = isNum(T.peak_time_ns) ? 'at ' + fmtNs(T.peak_time_ns) + ' · ' + fmtCount(T.peak_live_blocks) + ' blocks' : null;
    const cards = h('div', { class: 'cards' },
      card('allocations', 'Allocations', T.allocations, 'count', { est, tone: 'accent', sub: isNum(T.reallocs) && T.reallocs ? fmtCount(T.reallocs) + ' reallocs' : 'malloc, calloc, realloc…' }),
      card('frees', 'Frees', T.frees, 'count', { est, sub: isNum(T.allocations) && isNum(T.frees) ? fmtCount(Math.max(0, T.allocations - T.frees)) + ' not freed' : null }),
      card('bytes-allocated', 'Bytes allocated', T.bytes_allocated, 'bytes', { est }),
      card('peak', 'Peak live heap', T.peak_live_bytes, 'bytes', { est, tone: 'accent', sub: peakWhen, title: peakWhen }),
      card('leaked-bytes', 'Leaked bytes', T.leaked_bytes, 'bytes', { est, tone: (T.leaked_bytes || 0) > 0 ? 'bad' : null }),
      card('leaked-blocks', 'Leaked blocks', T.leaked_blocks, 'count', { est, tone: (T.leaked_blocks || 0) > 0 ? 'bad' : null, sub: 'never freed' }),
      card('temporary', 'Temporary allocations', T.temporary_allocations, 'count', { est, sub: tempPct != null ? fmtPct(tempPct) + ' of all' + (isNum(T.temporary_bytes) ? ' · ' + fmtBytes(T.temporary_bytes) : '') : null }),
      card('cross-thread', 'Cross-thread frees', T.cross_thread_frees, 'count', { est, sub: isNum(T.cross_thread_bytes) ? fmtBytes(T.cross_thread_bytes) : 'freed by another thread' }),
      card('threads', 'Threads', sc.threads.length, 'count', { sub: isNum(T.threads) && T.threads !== sc.threads.length ? fmtCount(T.threads) + ' recorded' : null }),
      card('processes', 'Processes', sc.proc ? 1 : M.processes.length || T.processes, 'count', { sub: M.multi && !sc.proc ? 'children followed' : null }));
    main.appendChild(cards);

    // Run details and resources side by side.
    const res = sc.resources || (M.processes.length === 1 ? M.processes[0].resources : null);
    const info = h('dl', { class: 'kv' });
    const kv = (k, v, mono) => { info.append(h('dt', { text: k }), h('dd', { class: mono ? 'mono' : null }, v)); };
    kv('Program', sc.proc ? sc.proc.program : t.program || '—');
    kv('Command line', sc.proc ? sc.proc.command_line : t.command_line || '—', true);
    if (t.exe || (sc.proc && sc.proc.exe)) kv('Executable', (sc.proc ? sc.proc.exe : t.exe) || '—', true);
    kv('PID', FORMAT.text(sc.proc ? sc.proc.pid : t.pid) + (sc.proc ? ' (parent ' + FORMAT.text(sc.proc.ppid) + ')' : ''));
    kv('Started', fmtWall(t.start_wall_ns));
    kv('Duration', fmtNs(T.duration_ns));
    kv('Sampling', h('span', null, est ? (t.sampling || 'sampled') + ' — figures are estimates ' : (t.sampling || 'exact') + ' — every event recorded', est ? estBadge() : null));
    kv('Trace directory', (sc.proc ? sc.proc.directory : t.directory) || '—', true);
    if (isNum(M.summary.unique_stacks)) kv('Call stacks', fmtCount(M.summary.unique_stacks) + ' distinct, ' + fmtCount(M.summary.stack_groups) + ' groups after symbolisation');
    if ((M.summary.unmatched_frees || 0) > 0) kv('Unmatched frees', fmtCount(M.summary.unmatched_frees) + ' (blocks allocated before tracing began)');
    if (t.recorder_version) kv('Recorded by', 'memscope ' + t.recorder_version);

    const resBox = h('dl', { class: 'kv' });
    const rkv = (k, v) => { resBox.append(h('dt', { text: k }), h('dd', null, v)); };
    if (res) {
      rkv('CPU', isNum(res.cpu_percent) ? fmtPct(res.cpu_percent) + ' of one core' + (isNum(res.cpu_ns) ? ' · ' + fmtNs(res.cpu_ns) + ' CPU time' : '') : 'not measured (too few samples)');
      rkv('Peak RSS', fmtBytes(res.rss_max_bytes) + (isNum(res.hwm_bytes) ? ' (high-water mark ' + fmtBytes(res.hwm_bytes) + ')' : ''));
      rkv('Virtual size', fmtBytes(res.vsize_max_bytes));
      rkv('Threads at most', fmtCount(res.threads_max));
      rkv('I/O', fmtBytes(res.io_bytes) + (isNum(res.io_bytes_per_second) ? ' · ' + fmtBytesRate(res.io_bytes_per_second) : '') + (isNum(res.disk_bytes) ? ' · ' + fmtBytes(res.disk_bytes) + ' disk' : ''));
      rkv('Samples', fmtCount(res.samples));
    }
    const sys = M.rankings ? obj(M.rankings.system) : M.system;
    if (sys && (isNum(sys.n_cpus) || isNum(sys.mem_total_bytes))) {
      const parts = [];
      if (isNum(sys.n_cpus)) parts.push(sys.n_cpus + ' CPUs');
      if (isNum(sys.mem_total_bytes)) parts.push(fmtBytes(sys.mem_total_bytes) + ' memory');
      if (sys.gpu && sys.gpu !== 'none') parts.push(sys.gpu);
      rkv('Machine', parts.join(' · '));
    }
    main.appendChild(h('div', { class: 'grid-3-2' },
      panel('Run', null, info),
      panel('Resources', { sub: res ? 'sampled by memscope-run' : null }, resBox.childNodes.length ? resBox : emptyNote('No resource samples', 'The program ran without memscope-run\'s monitor, or too briefly to be sampled.'))));

    // Heap timeline.
    const dur = durationOf(sc);
    const hs = heapSeries(sc, dur);
    const rss = rssSeries(sc);
    const series = [
      { name: 'Live heap', cls: 's1', pts: hs.live, kind: 'area' },
      { name: 'Most live in interval', cls: 's1', pts: hs.max, dashed: true },
    ];
    if (rss.length) series.push({ name: 'RSS', cls: 's2', pts: rss });
    const z = makeZoom('overview:' + (sc.pid || 'all'), sc, [0, dur]);
    const chartPanel = panel('Heap over time', { est: true, tools: h('div', { class: 'toolbar' }, legend(series), h('a', { href: buildHash('timeline', {}), text: 'Timeline →' })) });
    main.appendChild(chartPanel);
    const body = $('.panel-body', chartPanel);
    if (arr(sc.timeline.points).length) {
      timeChart(body, { id: 'overview-heap', series, unit: 'bytes', zoom: z, height: 240, markers: isNum(T.peak_time_ns) ? [{ t: T.peak_time_ns, label: 'peak ' + fmtBytes(T.peak_live_bytes) }] : [] });
    } else body.appendChild(emptyNote('No timeline', 'The trace holds no allocation events.'));

    // Findings and the biggest sites.
    const findings = sc.ownFindings(M.bottlenecks).slice(0, 4);
    const fpanel = panel('Top findings', { tools: h('a', { href: buildHash('findings', {}), text: 'All findings →' }) },
      findings.length ? h('div', { class: 'findings compact' }, findings.map((b) => findingCard(b, false))) : emptyNote('No findings', 'No call site, thread or trend crossed the thresholds of memscope-aggregate(1).'));
    const leaks = sc.own(M.doc.leaks).slice(0, 6);
    const lpanel = panel('Biggest leaks', { est: true, tools: h('a', { href: buildHash('leaks', {}), text: 'Leaks →' }) },
      leaks.length ? topList(leaks, (r) => r.leaked_bytes, (r) => fmtBytes(r.leaked_bytes) + ' · ' + fmtCount(r.leaked_blocks) + ' blocks', 'leaks') : emptyNote('No leaks', 'Every block was freed before the end.'));
    const hot = sc.own(obj(M.doc.hot_stacks).by_bytes).slice(0, 6);
    const hpanel = panel('Most bytes allocated', { est: true, tools: h('a', { href: buildHash('stacks', {}), text: 'Call stacks →' }) },
      hot.length ? topList(hot, (r) => r.bytes_allocated, (r) => fmtBytes(r.bytes_allocated) + ' · ' + fmtCount(r.allocations) + '×') : emptyNote('No allocations'));
    main.appendChild(fpanel);
    main.appendChild(h('div', { class: 'grid-2' }, hpanel, lpanel));
  }

  function topList (rows, weight, label, cls) {
    const max = Math.max(1, ...rows.map(weight));
    return h('ul', { class: 'toplist' + (cls ? ' ' + cls : '') }, rows.map((r) => h('li', null,
      h('div', { class: 'tl-row' }, h('span', { class: 'tl-fn', title: r.stack || r.function, text: r.function || '?' }), h('span', { class: 'tl-val', text: label(r) })),
      r.location ? h('div', { class: 'tl-loc', title: r.location, text: shortLocation(r.location) }) : null,
      h('div', { class: 'tl-bar' }, h('i', { style: 'width:' + (100 * weight(r) / max).toFixed(1) + '%' })))));
  }

  const FINDING_KIND = {
    'hot-call-site': ['Hot call site', (v) => fmtCount(v) + ' allocations/s'],
    'realloc-growth-chain': ['Realloc growth chain', (v) => 'chain of ' + fmtCount(v)],
    'temporary-churn': ['Temporary churn', (v) => fmtCount(v) + ' temporary'],
    'heap-growth': ['Heap growth', (v) => fmtBytes(v) + ' at the end'],
    'cpu-tracks-allocation': ['CPU tracks allocation', (v) => 'r = ' + fmtFixed(v, 2)],
  };

  function findingCard (b, full) {
    const kind = FINDING_KIND[b.kind] || [b.kind, (v) => fmtFixed(v, 2)];
    const st = stackOf(b);
    return h('div', { class: 'finding ' + (b.severity || 'medium'), dataset: { kind: b.kind } },
      h('div', { class: 'f-head' },
        h('span', { class: 'badge ' + (b.severity || 'medium'), text: b.severity || 'medium' }),
        h('span', { class: 'f-kind', text: kind[0] }),
        h('span', { class: 'f-subject', text: b.subject || '' }),
        h('span', { class: 'f-value', text: isNum(b.value) ? kind[1](b.value) : '' }),
        b.kind !== 'cpu-tracks-allocation' && b.kind !== 'realloc-growth-chain' ? maybeEst() : null),
      h('div', { class: 'f-evidence', text: b.evidence || '' }),
      full && b.location ? h('div', { class: 'f-hint' }, 'At ', h('code', { text: b.location })) : null,
      full && isNum(b.tid) ? h('div', { class: 'f-hint' }, h('a', { href: buildHash('threads', { tid: String(b.tid) }), text: 'Thread ' + b.tid + ' →' })) : null,
      full && (st || b.stack) ? h('details', null, h('summary', { text: 'Call stack' }), framesView(st, b.stack)) : null);
  }

  // ---- Timeline ----

  function viewTimeline (main) {
    const sc = scope();
    const dur = durationOf(sc);
    const z = makeZoom('timeline:' + (sc.pid || 'all'), sc, [0, dur]);
    main.appendChild(pageHead('Timeline', 'The heap, the allocation rate and the program\'s resources over ' + fmtNs(dur) + (sc.label ? ', ' + sc.label : '') + '.', zoomTools(z)));
    const tl = sc.timeline;
    const hs = heapSeries(sc, dur);
    const rss = rssSeries(sc);
    const add = (title, series, unit, opts) => {
      opts = opts || {};
      const p = panel(title, { est: opts.est, tools: legend(series), sub: opts.sub });
      main.appendChild(p);
      const body = $('.panel-body', p);
      if (series.every((s) => !s.pts.some((q) => q[1] != null))) {
        body.appendChild(h('div', { class: 'chart-empty', text: opts.empty || 'No data.' }));
        return;
      }
      timeChart(body, Object.assign({ id: opts.id, series, unit, zoom: z, height: opts.height || 200 }, opts.chart || {}));
    };
    const heap = [{ name: 'Live heap', cls: 's1', pts: hs.live, kind: 'area' }, { name: 'Most live in interval', cls: 's1', pts: hs.max, dashed: true }];
    if (rss.length) heap.push({ name: 'RSS', cls: 's2', pts: rss });
    add('Heap' + (rss.length ? ' and resident memory' : ''), heap, 'bytes', { id: 'heap', est: true, height: 240, empty: 'No allocation events.', chart: { markers: isNum(sc.totals.peak_time_ns) ? [{ t: sc.totals.peak_time_ns, label: 'peak' }] : [] } });
    add('Allocation rate', [
      { name: 'Allocations/s', cls: 's3', pts: rateSeries(tl, 'allocations'), kind: 'area' },
      { name: 'Frees/s', cls: 's4', pts: rateSeries(tl, 'frees') },
    ], 'rate', { id: 'rate', est: true, sub: tl.bucket_ns ? 'per ' + fmtNs(tl.bucket_ns) + ' interval' : null });
    add('Bytes allocated per second', [{ name: 'Bytes/s', cls: 's1', pts: rateSeries(tl, 'bytes_allocated'), kind: 'area' }], 'brate', { id: 'brate', est: true });

    const procs = sc.seriesProcs.filter((p) => resourceSeries(p).length);
    const sys = sc.proc ? [] : systemPoints();
    if (!procs.length && !sys.length) {
      main.appendChild(panel('Resources', null, emptyNote('No resource time series in this report',
        'CPU, RSS, I/O and thread counts over time come from memscope-run\'s monitor, through memscope-aggregate 1.1 or later.')));
      return;
    }
    if (procs.length) {
      const one = procs.length === 1;
      const cpu = one ? seriesOf(resourceSeries(procs[0]), 'cpu_percent') : sumSeries(procs.map(resourceSeries), 'cpu_percent');
      const cpuSeries = [{ name: 'Process CPU (% of one core)', cls: 's2', pts: cpu, kind: 'area' }];
      add('CPU', cpuSeries, 'pct', { id: 'cpu' });
      const rd = one ? seriesOf(resourceSeries(procs[0]), 'io_read_bytes_per_second') : sumSeries(procs.map(resourceSeries), 'io_read_bytes_per_second');
      const wr = one ? seriesOf(resourceSeries(procs[0]), 'io_write_bytes_per_second') : sumSeries(procs.map(resourceSeries), 'io_write_bytes_per_second');
      add('I/O', [{ name: 'Read', cls: 's3', pts: rd, kind: 'area' }, { name: 'Written', cls: 's4', pts: wr }], 'brate', { id: 'io', sub: 'files, pipes and sockets' });
      const thr = one ? seriesOf(resourceSeries(procs[0]), 'threads') : sumSeries(procs.map(resourceSeries), 'threads');
      add('Threads', [{ name: 'Threads', cls: 's6', pts: thr }], 'count', { id: 'threads', height: 150 });
    }
    if (sys.length) {
      add('Machine CPU', [{ name: 'Busy share of all cores', cls: 's5', pts: seriesOf(sys, 'cpu_percent'), kind: 'area' }], 'pct', { id: 'sys-cpu', height: 170, chart: { yMax: 100 } });
      const load = seriesOf(sys, 'load1');
      add('Machine memory available', [{ name: 'Available', cls: 's3', pts: seriesOf(sys, 'mem_available_bytes'), kind: 'area' }], 'bytes', { id: 'sys-mem', height: 170, sub: isNum(M.system.mem_total_bytes) ? 'of ' + fmtBytes(M.system.mem_total_bytes) : null });
      add('Load average (1 min)', [{ name: 'load1', cls: 's4', pts: load }], 'num', { id: 'sys-load', height: 150, sub: isNum(M.system.n_cpus) ? M.system.n_cpus + ' CPUs' : null });
    }
  }

  // ---- Threads ----

  const ALERT_ORDER = { high: 3, medium: 2, normal: 1 };

  function viewThreads (main, params) {
    const sc = scope();
    const rows = sc.threads;
    const counts = { high: 0, medium: 0, normal: 0 };
    for (const t of rows) counts[t.alert] = (counts[t.alert] || 0) + 1;
    const openTid = params.get('tid');
    main.appendChild(pageHead('Threads', fmtCount(rows.length) + ' threads' + (sc.label ? ' in ' + sc.label : '') + ', ranked by peak live bytes. Click a thread for its details.'));

    if (M.rankings) {
      const roles = obj(M.rankings.roles);
      const list = Object.keys(roles).filter((k) => roles[k] > 0).map((k) => k + ' ' + roles[k]);
      if (list.length) main.appendChild(h('p', { class: 'note', text: 'Roles: ' + list.join(' · ') }));
    }

    const columns = [
      { key: 'tid', label: 'TID', type: 'count', cell: (r) => FORMAT.text(r.tid) },
      { key: 'name', label: 'Name', type: 'text', cls: 'fn', cell: (r) => h('span', null, r.name || '—', r.traced === false ? ' ' : null, r.traced === false ? h('span', { class: 'badge', title: 'seen by the monitor, not traced', text: 'not traced' }) : null) },
      { key: 'role', label: 'Role', type: 'text', cell: (r) => h('span', { class: 'badge role', text: r.role || '—' }) },
      { key: 'alert', label: 'Alert', type: 'text', sort: (r) => ALERT_ORDER[r.alert] || 0, cell: (r) => h('span', { class: 'badge ' + (r.alert || 'normal'), text: r.alert || 'normal' }) },
      { key: 'allocations', label: 'Allocations', type: 'count', est: true },
      { key: 'frees', label: 'Frees', type: 'count', est: true },
      { key: 'bytes_allocated', label: 'Bytes', type: 'bytes', est: true },
      { key: 'peak_live_bytes', label: 'Peak', type: 'bytes', est: true },
      { key: 'leaked_bytes', label: 'Leaked', type: 'bytes', est: true },
      { key: 'efficiency', label: 'Efficiency', type: 'pct', get: (r) => (isNum(r.efficiency) ? 100 * r.efficiency : null), help: 'bytes freed ÷ bytes allocated' },
      { key: 'alloc_rate', label: 'Rate', type: 'rate', est: true, help: 'allocations per second over the thread\'s life' },
      { key: 'cpu_percent', label: 'CPU', type: 'pct' },
    ];
    if (M.multi && !sc.proc) columns.unshift({ key: 'pid', label: 'PID', type: 'count', cell: (r) => FORMAT.text(r.pid) });
    const alertFilter = ui.alertFilter;
    const chips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Alert level' },
      [['all', 'All'], ['high', 'High'], ['medium', 'Medium'], ['normal', 'Normal']].map(([k, label]) =>
        h('button', { type: 'button', class: 'chip', dataset: { alert: k }, 'aria-pressed': alertFilter === k ? 'true' : 'false', text: label + ' ' + (k === 'all' ? rows.length : counts[k] || 0),
          onclick: () => { ui.alertFilter = k; render(); } })));
    const key = (r) => r.pid + ':' + r.tid;
    const tbl = dataTable({
      key: 'threads:' + (sc.pid || 'all'),
      columns,
      rows,
      sort: ['peak_live_bytes', 'desc'],
      noun: 'threads',
      rowKey: key,
      single: true,
      search: (r) => r.tid + ' ' + (r.name || '') + ' ' + (r.role || '') + ' ' + (r.alert || '') + (M.multi ? ' ' + r.pid : ''),
      searchPlaceholder: 'Filter by TID, name, role…',
      filter: alertFilter === 'all' ? null : (r) => r.alert === alertFilter,
      rowClass: (r) => 'alert-' + (r.alert || 'normal'),
      expand: threadDetails,
      onRow: (r, tr, open) => noteInHash('tid', open ? r.tid : null),
      tools: chips,
      empty: 'No threads were traced.',
    });
    // The thread named in the hash is open.
    if (openTid != null) {
      const t = rows.find((r) => String(r.tid) === openTid);
      if (t) {
        tbl.state.open.clear();
        tbl.state.open.add(key(t));
        const idx = tbl.rowsShown().indexOf(t);
        if (idx >= tbl.state.limit) tbl.state.limit = idx + 1;
        tbl.refresh();
      }
    }
    tablePanel(main, null, tbl);
    if (openTid != null) {
      const tr = $('tr.row.open', main);
      if (tr) setTimeout(() => tr.scrollIntoView({ block: 'center' }), 0);
    }
  }

  function rankOf (list, t) {
    const i = arr(list).findIndex((r) => r.tid === t.tid && r.pid === t.pid);
    return i >= 0 ? i + 1 : null;
  }

  function threadDetails (t) {
    const dur = M.summary.duration_ns || durationOf(scope());
    const kv = h('dl', { class: 'kv' });
    const add = (k, v) => kv.append(h('dt', { text: k }), h('dd', null, v));
    add('Thread', threadLabel(t.tid, t.name) + ' · process ' + t.pid);
    const life = h('div', { class: 'lifebar', title: 'the thread\'s life within the run; the red mark is its peak' },
      h('i', { style: 'left:' + (100 * (t.first_ns || 0) / dur).toFixed(2) + '%;width:' + (100 * Math.max(0, (t.last_ns || 0) - (t.first_ns || 0)) / dur).toFixed(2) + '%' }),
      isNum(t.peak_time_ns) && t.peak_live_bytes > 0 ? h('b', { style: 'left:' + (100 * t.peak_time_ns / dur).toFixed(2) + '%' }) : null);
    add('Lifetime', h('div', null, fmtNs(t.first_ns) + ' → ' + fmtNs(t.last_ns) + ' (' + fmtNs(Math.max(0, (t.last_ns || 0) - (t.first_ns || 0))) + ')', life));
    add('Allocated', fmtCount(t.allocations) + ' blocks, ' + fmtBytes(t.bytes_allocated) + ' (' + fmtBytesExact(t.bytes_allocated) + ')');
    add('Freed', fmtCount(t.frees) + ' blocks, ' + fmtBytes(t.bytes_freed));
    add('Peak live', fmtBytes(t.peak_live_bytes) + ' at ' + fmtNs(t.peak_time_ns));
    add('Leaked', fmtCount(t.leaked_blocks) + ' blocks, ' + fmtBytes(t.leaked_bytes));
    add('Temporary', fmtCount(t.temporary) + ' allocations freed before the next');
    add('Cross-thread frees', fmtCount(t.cross_thread_frees) + ' blocks of other threads freed here');
    add('Reallocs', fmtCount(t.reallocs));
    add('CPU · I/O', fmtPct(t.cpu_percent) + ' · ' + (isNum(t.io_rate) ? fmtFixed(t.io_rate, 1) + ' waits/s' : '—'));
    add('Role · alert', h('span', null, h('span', { class: 'badge role', text: t.role || '—' }), ' ', h('span', { class: 'badge ' + (t.alert || 'normal'), text: t.alert || 'normal' })));
    const side = h('div');
    if (M.rankings) {
      const rk = obj(M.rankings.rankings);
      const n = arr(rk.by_peak_memory).length;
      const ranks = [['peak memory', rk.by_peak_memory], ['bytes allocated', rk.by_bytes_allocated], ['allocation rate', rk.by_allocation_rate], ['CPU', rk.by_cpu], ['I/O', rk.by_io], ['leaked bytes', rk.by_leaked_bytes]]
        .map(([k, l]) => [k, rankOf(l, t)]).filter((x) => x[1] != null);
      if (ranks.length) side.appendChild(h('div', null, h('h3', { text: 'Rankings' }), h('ul', { class: 'note' }, ranks.map(([k, r]) => h('li', { text: '#' + r + ' of ' + n + ' by ' + k })))));
    }
    const inter = M.interactions.filter((r) => r.pid === t.pid && (r.owner_tid === t.tid || r.freer_tid === t.tid));
    if (inter.length) {
      side.appendChild(h('div', null, h('h3', { text: 'Cross-thread frees' }), h('ul', { class: 'note' }, inter.slice(0, 8).map((r) => h('li', {
        text: (r.owner_tid === t.tid ? 'its blocks freed by ' + threadLabel(r.freer_tid, r.freer_name) : 'frees blocks of ' + threadLabel(r.owner_tid, r.owner_name)) +
          ': ' + fmtCount(r.blocks) + ' blocks, ' + fmtBytes(r.bytes) + (r.top_function ? ' (' + r.top_function + ')' : ''),
      })))));
    }
    return h('div', { class: 'thread-details', dataset: { tid: String(t.tid) } }, h('div', { class: 'grid-2' }, kv, side));
  }

  // ---- Call stacks ----

  const STACK_COLUMNS = [
    { key: 'allocations', label: 'Allocations', type: 'count', est: true },
    { key: 'bytes_allocated', label: 'Bytes', type: 'bytes', est: true },
    { key: 'frees', label: 'Frees', type: 'count', est: true },
    { key: 'leaked_bytes', label: 'Leaked', type: 'bytes', est: true },
    { key: 'peak_bytes', label: 'At peak', type: 'bytes', est: true },
    { key: 'temporary', label: 'Temporary', type: 'count', est: true },
    { key: 'reallocs', label: 'Reallocs', type: 'count', est: true },
  ];

  function viewStacks (main, params) {
    const hot = obj(M.doc.hot_stacks);
    const by = params.get('by') === 'count' ? 'count' : params.get('by') === 'bytes' ? 'bytes' : ui.stacksBy;
    ui.stacksBy = by;
    const sc = scope();
    const rows = sc.own(by === 'count' ? hot.by_count : hot.by_bytes);
    const toggle = segmented([['bytes', 'By bytes'], ['count', 'By count']], by, (v) => { ui.stacksBy = v; go('stacks', { by: v }); }, 'Rank by');
    toggle.dataset.toggle = 'stacks-by';
    const total = sc.proc ? null : M.summary.stack_groups;
    main.appendChild(pageHead('Call stacks', 'The hottest call stacks ' + (by === 'count' ? 'by number of allocations' : 'by bytes allocated') +
      (isNum(total) ? ' — ' + fmtCount(rows.length) + ' of ' + fmtCount(total) + ' stack groups' : '') + '. Click a row for its frames.', toggle,
      h('a', { class: 'btn', href: buildHash('flame', {}), text: 'Flame graph' })));
    const tbl = stackTable({
      key: 'stacks:' + by + ':' + (sc.pid || 'all'),
      columns: STACK_COLUMNS,
      rows,
      sort: [by === 'count' ? 'allocations' : 'bytes_allocated', 'desc'],
      noun: 'stacks',
      empty: 'No allocations were recorded.',
    });
    tablePanel(main, null, tbl);
    const open = params.get('stack');
    if (open != null) tbl.open(open);
  }

  // ---- Flame graph (an icicle: callers on top, callees below) ----

  const FLAME_WEIGHTS = {
    bytes: { label: 'Bytes allocated', key: 'bytes_allocated', total: 'bytes_allocated', fmt: fmtBytes },
    count: { label: 'Allocations', key: 'allocations', total: 'allocations', fmt: fmtCount },
    leaked: { label: 'Leaked bytes', key: 'leaked_bytes', total: 'leaked_bytes', fmt: fmtBytes },
  };

  function buildFlame (weight, sc) {
    const W = FLAME_WEIGHTS[weight];
    const root = { name: 'all', module: null, inlined: false, value: 0, self: 0, kids: new Map(), depth: 0, parent: null };
    for (const s of sc.own(M.stacks)) {
      const w = s[W.key] || 0;
      if (!(w > 0)) continue;
      let frames = arr(s.frames);
      let names;
      if (frames.length) names = frames.slice().reverse();
      else names = String(s.stack || s.function || '?').split(';').map((n) => ({ function: n, module: null, inlined: false }));
      root.value += w;
      let node = root;
      for (const f of names) {
        const k = (f.function || '?') + '\u0001' + (f.inlined ? 1 : 0);
        let c = node.kids.get(k);
        if (!c) {
          c = { name: f.function || '?', module: f.module || null, inlined: !!f.inlined, value: 0, self: 0, kids: new Map(), depth: node.depth + 1, parent: node, file: f.file || null, line: f.line || 0 };
          node.kids.set(k, c);
        }
        c.value += w;
        node = c;
      }
      node.self += w;
    }
    // What the report's stack table leaves out is one box, so the widths stay
    // true to the totals.
    const total = sc.totals[W.total];
    if (isNum(total) && total > root.value && (total - root.value) > total * 0.001) {
      const rest = total - root.value;
      root.kids.set('\u0002other', { name: 'other stacks (not in the report\'s stack table)', module: null, inlined: false, other: true, value: rest, self: rest, kids: new Map(), depth: 1, parent: root });
      root.value = total;
    }
    return root;
  }

  function sortedKids (n) {
    if (!n.sorted) n.sorted = Array.from(n.kids.values()).sort((a, b) => b.value - a.value);
    return n.sorted;
  }

  const FLAME_HUES = [18, 32, 45, 8, 200, 160, 265, 330, 95, 220];

  function flameColour (node, dark) {
    let hsh = 0;
    const key = basename(node.module || '') || node.name;
    for (let i = 0; i < key.length; i++) hsh = (hsh * 31 + key.charCodeAt(i)) | 0;
    const hue = FLAME_HUES[Math.abs(hsh) % FLAME_HUES.length];
    let n = 0;
    for (let i = 0; i < node.name.length; i++) n = (n * 17 + node.name.charCodeAt(i)) | 0;
    const l = (dark ? 58 : 72) + (Math.abs(n) % 10) - 5;
    return 'hsl(' + hue + ',' + (dark ? 55 : 78) + '%,' + l + '%)';
  }

  function viewFlame (main, params) {
    const w = FLAME_WEIGHTS[params.get('w')] ? params.get('w') : ui.flameWeight;
    if (w !== ui.flameWeight) ui.flameFocus = [];
    ui.flameWeight = w;
    const W = FLAME_WEIGHTS[w];
    const toggle = segmented([['bytes', 'Bytes'], ['count', 'Allocations'], ['leaked', 'Leaked']], w, (v) => { ui.flameWeight = v; ui.flameFocus = []; go('flame', { w: v }); }, 'Weight');
    toggle.dataset.toggle = 'flame-weight';
    main.appendChild(pageHead('Flame graph', 'Every recorded call stack, callers on top, each box as wide as its share of ' + W.label.toLowerCase() + '. Click a box to zoom into it.', toggle));
    const root = buildFlame(w, scope());
    const dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
    const crumbs = h('div', { class: 'crumbs' });
    const info = h('span', { class: 'note' });
    const search = searchBox('Highlight functions…', ui.flameQuery, (v) => { ui.flameQuery = v; draw(); });
    search.dataset.search = 'flame';
    const box = h('div', { class: 'flame', dataset: { weight: w } });
    const p = panel(null, { flush: false }, h('div', { class: 'toolbar', style: 'margin-bottom:10px' }, crumbs, h('span', { class: 'spacer', style: 'flex:1' }), info, search), box);
    main.appendChild(p);
    if (!(root.value > 0)) {
      box.replaceWith(emptyNote('Nothing to draw', w === 'leaked' ? 'Nothing leaked.' : 'No allocations were recorded.'));
      return;
    }

    // The focus is kept as the path of names from the root, so it
    // survives redrawing (a change of window size, say).
    function focusNode () {
      let n = root;
      for (const k of ui.flameFocus) {
        const c = n.kids.get(k);
        if (!c) break;
        n = c;
      }
      return n;
    }

    function pathOf (n) {
      const keys = [];
      while (n && n.parent) {
        for (const [k, c] of n.parent.kids) if (c === n) keys.unshift(k);
        n = n.parent;
      }
      return keys;
    }

    function draw () {
      const focus = focusNode();
      const width = box.clientWidth || 1000;
      const rowH = 21;
      const q = ui.flameQuery.trim().toLowerCase();
      const nodes = [];
      let matched = 0;
      // Ancestors of the focus: full width, dimmed.
      const chain = [];
      for (let n = focus; n; n = n.parent) chain.unshift(n);
      chain.forEach((n, i) => nodes.push({ n, x: 0, w: width, d: i, anc: n !== focus }));
      const minPx = 1.2;
      const stack = [[focus, 0, chain.length - 1]];
      let maxDepth = chain.length - 1;
      let drawn = 0;
      while (stack.length && drawn < 8000) {
        const [n, x, d] = stack.pop();
        let cx = x;
        let small = null;
        for (const c of sortedKids(n)) {
          const cw = c.value / focus.value * width;
          if (cw >= minPx) {
            nodes.push({ n: c, x: cx, w: cw, d: d + 1 });
            drawn++;
            maxDepth = Math.max(maxDepth, d + 1);
            stack.push([c, cx, d + 1]);
          } else {
            // Callees too narrow to draw one by one share one box.
            if (!small) small = { n: { name: '', other: true, value: 0, self: 0, kids: new Map(), parent: n, count: 0 }, x: cx, w: 0, d: d + 1, rest: true };
            small.n.value += c.value;
            small.n.count++;
            small.w += cw;
          }
          cx += cw;
        }
        if (small && small.w >= minPx) {
          small.n.name = small.n.count + ' smaller';
          nodes.push(small);
          maxDepth = Math.max(maxDepth, d + 1);
        }
      }
      // What the search matches: each match counted once, not again under
      // a matching caller (recursion).
      const countMatches = (n) => {
        if (n.name.toLowerCase().includes(q)) return n.value;
        let sum = 0;
        for (const c of n.kids.values()) sum += countMatches(c);
        return sum;
      };
      if (q) matched = countMatches(focus);
      const frag = document.createDocumentFragment();
      for (const it of nodes) {
        const n = it.n;
        const isMatch = q && !it.rest && n.name.toLowerCase().includes(q);
        const el = document.createElement('div');
        el.className = 'fn' + (n === root ? ' root' : '') + (n.inlined ? ' inlined' : '') + (it.anc ? ' ancestor' : '') + (n.other ? ' other' : '') + (q ? (isMatch ? ' match' : ' dim') : '');
        el.style.left = (it.x / width * 100).toFixed(3) + '%';
        el.style.width = 'calc(' + (it.w / width * 100).toFixed(3) + '% - 1px)';
        el.style.top = (it.d * rowH) + 'px';
        if (!n.other && n !== root) el.style.background = flameColour(n, dark);
        if (it.w > 28) el.textContent = n === root ? 'all — ' + W.fmt(root.value) : n.name;
        el.dataset.depth = String(it.d);
        el.dataset.name = n.name;
        el.addEventListener('mousemove', (ev) => {
          if (it.rest) {
            showTip(ev, n.count + ' callees too narrow to draw', [{ k: W.label, v: W.fmt(n.value) }, { k: 'of all', v: fmtPct(100 * n.value / root.value, 1) }]);
            return;
          }
          showTip(ev, n === root ? 'all stacks' : n.name, [
            { k: W.label, v: W.fmt(n.value) },
            { k: 'of all', v: fmtPct(100 * n.value / root.value, 1) },
            focus !== root ? { k: 'of the zoomed box', v: fmtPct(100 * n.value / focus.value, 1) } : null,
            n.self > 0 ? { k: 'allocated here itself', v: W.fmt(n.self) } : null,
            n.module ? { k: 'module', v: basename(n.module), mono: true } : null,
            n.file ? { k: 'source', v: basename(n.file) + (n.line ? ':' + n.line : ''), mono: true } : null,
            n.inlined ? { k: 'inlined', v: 'yes' } : null,
          ]);
        });
        el.addEventListener('mouseleave', hideTip);
        el.addEventListener('click', () => {
          hideTip();
          const target = it.rest ? n.parent : n;
          ui.flameFocus = target === focus && target.parent ? pathOf(target.parent) : pathOf(target);
          draw();
        });
        frag.appendChild(el);
      }
      box.replaceChildren(frag);
      box.style.height = ((maxDepth + 1) * rowH + 4) + 'px';
      box.dataset.nodes = String(nodes.length);
      box.dataset.focus = focus === root ? '' : focus.name;
      box.dataset.focusDepth = String(chain.length - 1);
      crumbs.replaceChildren();
      chain.forEach((n, i) => {
        if (i) crumbs.appendChild(h('span', { class: 'sep', text: '›' }));
        const b = h('button', { type: 'button', title: n.name, text: n === root ? 'all' : n.name });
        b.addEventListener('click', () => { ui.flameFocus = pathOf(n); draw(); });
        crumbs.appendChild(b);
      });
      info.textContent = (q ? fmtPct(100 * matched / root.value, 1) + ' of ' + W.label.toLowerCase() + ' matches · ' : '') +
        (focus === root ? 'total ' + W.fmt(root.value) : W.fmt(focus.value) + ' (' + fmtPct(100 * focus.value / root.value, 1) + ')');
    }
    draw();
  }

  // ---- Leaks ----

  function viewLeaks (main, params) {
    const sc = scope();
    const rows = sc.own(M.doc.leaks);
    const T = sc.totals;
    main.appendChild(pageHead('Leaks', 'Blocks still allocated when the program ended, by the call stack that allocated them.'));
    main.appendChild(h('div', { class: 'cards' },
      card('leak-bytes', 'Leaked bytes', T.leaked_bytes, 'bytes', { est: true, tone: (T.leaked_bytes || 0) > 0 ? 'bad' : null }),
      card('leak-blocks', 'Leaked blocks', T.leaked_blocks, 'count', { est: true }),
      card('leak-sites', 'Leaking call stacks', rows.length, 'count', {}),
      card('leak-share', 'Share of bytes allocated', T.bytes_allocated ? fmtPct(100 * (T.leaked_bytes || 0) / T.bytes_allocated, 2) : '—', 'text', {})));
    if (arr(M.dataLoss.processes_without_exit).length) {
      main.appendChild(h('p', { class: 'note', text: 'Some processes ended without their exit record (killed, crashed or _exit): what they still held when they stopped counts as leaked.' }));
    }
    const tbl = stackTable({
      key: 'leaks:' + (sc.pid || 'all'),
      columns: [
        { key: 'leaked_bytes', label: 'Leaked bytes', type: 'bytes', est: true },
        { key: 'leaked_blocks', label: 'Blocks', type: 'count', est: true },
        { key: 'allocations', label: 'Allocations', type: 'count', est: true },
        { key: 'bytes_allocated', label: 'Allocated', type: 'bytes', est: true },
        { key: 'share', label: 'Of leaks', type: 'pct', get: (r) => (T.leaked_bytes ? 100 * r.leaked_bytes / T.leaked_bytes : null), cell: (r) => pctBar(T.leaked_bytes ? 100 * r.leaked_bytes / T.leaked_bytes : null) },
      ],
      rows,
      sort: ['leaked_bytes', 'desc'],
      noun: 'leaking stacks',
      empty: 'No leaks: every block allocated was freed.',
    });
    tablePanel(main, null, tbl);
    const open = params.get('stack');
    if (open != null) tbl.open(open);
  }

  // ---- Peak ----

  function viewPeak (main) {
    const sc = scope();
    const T = sc.totals;
    const dur = durationOf(sc);
    main.appendChild(pageHead('Peak', 'The moment the most heap was live' + (sc.label ? ' in ' + sc.label : '') + ', and the call stacks that held it.'));
    main.appendChild(h('div', { class: 'cards' },
      card('peak-bytes', 'Peak live heap', T.peak_live_bytes, 'bytes', { est: true, tone: 'accent' }),
      card('peak-blocks', 'Live blocks at the peak', T.peak_live_blocks, 'count', { est: true }),
      card('peak-time', 'When', isNum(T.peak_time_ns) ? fmtNs(T.peak_time_ns) : '—', 'text', { sub: isNum(T.peak_time_ns) && dur ? fmtPct(100 * T.peak_time_ns / dur) + ' into the run' : null }),
      card('peak-rss', 'Peak RSS', sc.resources ? fmtBytes(sc.resources.rss_max_bytes) : '—', 'text', { sub: sc.resources ? 'resident memory' : 'not sampled' })));
    const hs = heapSeries(sc, dur);
    const z = makeZoom('peak:' + (sc.pid || 'all'), sc, [0, dur]);
    const cp = panel('Live heap', { est: true, tools: zoomTools(z) });
    main.appendChild(cp);
    if (arr(sc.timeline.points).length) {
      timeChart($('.panel-body', cp), { id: 'peak-heap', series: [{ name: 'Live heap', cls: 's1', pts: hs.live, kind: 'area' }, { name: 'Most live in interval', cls: 's1', pts: hs.max, dashed: true }], unit: 'bytes', zoom: z, height: 200, markers: isNum(T.peak_time_ns) ? [{ t: T.peak_time_ns, label: 'peak ' + fmtBytes(T.peak_live_bytes) }] : [] });
    } else $('.panel-body', cp).appendChild(emptyNote('No timeline'));
    const tbl = stackTable({
      key: 'peak:' + (sc.pid || 'all'),
      columns: [
        { key: 'bytes', label: 'Live at peak', type: 'bytes', est: true },
        { key: 'blocks', label: 'Blocks', type: 'count', est: true },
        { key: 'percent', label: 'Of the peak', type: 'pct', cell: (r) => pctBar(r.percent) },
      ],
      rows: sc.peakStacks,
      sort: ['bytes', 'desc'],
      noun: 'stacks',
      empty: 'Nothing was live at the peak.',
    });
    tablePanel(main, 'Call stacks live at the peak', tbl);
  }

  // ---- Temporary allocations and sizes ----

  function viewTemporary (main) {
    const sc = scope();
    const T = sc.totals;
    const temp = obj(M.doc.temporary);
    main.appendChild(pageHead('Temporary allocations and sizes', 'Blocks freed before their thread allocated anything else (a stack or reused buffer would do), and how big the allocations were.'));
    main.appendChild(h('div', { class: 'cards' },
      card('temp-count', 'Temporary allocations', T.temporary_allocations, 'count', { est: true, tone: 'accent' }),
      card('temp-share', 'Share of allocations', T.allocations ? fmtPct(100 * (T.temporary_allocations || 0) / T.allocations) : '—', 'text', {}),
      card('temp-bytes', 'Temporary bytes', sc.proc ? null : temp.bytes, 'bytes', { est: true }),
      card('temp-stacks', 'Call stacks', sc.own(temp.stacks).length, 'count', {})));

    const by = ui.sizesBy;
    const sizes = sc.sizes;
    const toggle = segmented([['allocations', 'Allocations'], ['bytes', 'Bytes']], by, (v) => { ui.sizesBy = v; render(); }, 'Histogram of');
    toggle.dataset.toggle = 'sizes-by';
    const hp = panel('Allocation sizes', { est: true, tools: toggle, sub: 'powers of two' });
    const st = dataTable({
      key: 'sizes:' + (sc.pid || 'all'),
      columns: [
        { key: 'min_bytes', label: 'Size', type: 'bytes', cell: (r) => fmtSize(r.min_bytes) + ' – ' + fmtSize(r.max_bytes + 1), title: (r) => fmtBytesExact(r.min_bytes) + ' to ' + fmtBytesExact(r.max_bytes) },
        { key: 'allocations', label: 'Allocations', type: 'count', est: true },
        { key: 'bytes', label: 'Bytes', type: 'bytes', est: true },
        { key: 'percent', label: 'Share', type: 'pct', help: 'share of the allocations' },
      ],
      rows: sizes,
      sort: ['min_bytes', 'asc'],
      noun: 'size buckets',
      pageSize: 40,
      empty: 'No allocations.',
    });
    main.appendChild(h('div', { class: 'grid-3-2' }, hp, panel('Size buckets', { flush: true, cls: 'scroll-panel' }, st.el)));
    barChart($('.panel-body', hp), {
      id: 'sizes',
      unit: by === 'bytes' ? 'bytes' : 'count',
      xLabel: 'allocation size (lower bound of each bucket)',
      height: 260,
      bars: sizes.map((r) => ({
        label: fmtSize(r.min_bytes),
        value: by === 'bytes' ? r.bytes : r.allocations,
        title: fmtSize(r.min_bytes) + ' – ' + fmtSize(r.max_bytes + 1),
        rows: [{ k: 'allocations', v: fmtCount(r.allocations) }, { k: 'bytes', v: fmtBytes(r.bytes) }, { k: 'share of allocations', v: fmtPct(r.percent) }],
      })),
      empty: 'No allocations.',
    });

    const tbl = stackTable({
      key: 'temporary:' + (sc.pid || 'all'),
      columns: [
        { key: 'temporary', label: 'Temporary', type: 'count', est: true },
        { key: 'allocations', label: 'Allocations', type: 'count', est: true },
        { key: 'percent', label: 'Temporary share', type: 'pct', cell: (r) => pctBar(r.percent) },
        { key: 'temporary_bytes', label: 'Bytes', type: 'bytes', est: true },
      ],
      rows: sc.own(temp.stacks),
      sort: ['temporary', 'desc'],
      noun: 'stacks',
      pageSize: 25,
      empty: 'No temporary allocations.',
    });
    tablePanel(main, 'Call stacks of temporary allocations', tbl);
  }

  // ---- Labels (ms_track_var) ----

  function viewLabels (main) {
    const sc = scope();
    const rows = sc.own(M.doc.labels);
    main.appendChild(pageHead('Labels', 'The names the program gave its own blocks with ms_track_var() or ms_tracker_label() (libmemscope(3)): how many blocks each name was given, how many were freed and how many leaked. A label ends when its block is freed or moved by realloc.'));
    const tbl = dataTable({
      key: 'labels:' + (sc.pid || 'all'),
      columns: [
        { key: 'name', label: 'Name', type: 'text', cls: 'fn' },
        { key: 'type', label: 'Type', type: 'text' },
        { key: 'pid', label: 'PID', type: 'count', cell: (r) => FORMAT.text(r.pid) },
        { key: 'blocks', label: 'Blocks', type: 'count' },
        { key: 'bytes', label: 'Bytes', type: 'bytes' },
        { key: 'freed_blocks', label: 'Freed', type: 'count' },
        { key: 'leaked_blocks', label: 'Leaked blocks', type: 'count' },
        { key: 'leaked_bytes', label: 'Leaked bytes', type: 'bytes' },
        { key: 'unmatched', label: 'Unmatched', type: 'count', help: 'labels of an address where no recorded block was live' },
        { key: 'first_time_ns', label: 'First', type: 'ns' },
        { key: 'first_tid', label: 'Thread', type: 'count', cell: (r) => FORMAT.text(r.first_tid) },
      ],
      rows,
      sort: ['leaked_bytes', 'desc'],
      noun: 'labels',
      search: (r) => r.name + ' ' + r.type,
      searchPlaceholder: 'Filter by name or type…',
      empty: 'The program labelled no block. A program linked with libmemscope names its blocks with ms_track_var (ptr).',
    });
    tablePanel(main, null, tbl);
  }

  // ---- Thread interactions ----

  function viewInteractions (main) {
    const sc = scope();
    const rows = sc.interactions;
    const T = sc.totals;
    main.appendChild(pageHead('Thread interactions', 'Blocks allocated by one thread and freed by another (producer → consumer hand-offs).'));
    main.appendChild(h('div', { class: 'cards' },
      card('xt-frees', 'Cross-thread frees', T.cross_thread_frees, 'count', { est: true, tone: 'accent' }),
      card('xt-bytes', 'Bytes handed over', isNum(T.cross_thread_bytes) ? T.cross_thread_bytes : rows.reduce((a, r) => a + (r.bytes || 0), 0), 'bytes', { est: true }),
      card('xt-pairs', 'Thread pairs', rows.length, 'count', {})));
    const hp = panel('Allocating thread × freeing thread', { est: true, tools: h('span', { class: 'heat-scale' }, h('span', { text: 'fewer bytes' }), h('i'), h('span', { text: 'more' })) });
    main.appendChild(hp);
    heatMap($('.panel-body', hp), rows);
    const tbl = dataTable({
      key: 'interactions:' + (sc.pid || 'all'),
      columns: [
        { key: 'owner_tid', label: 'Allocated by', type: 'text', cls: 'fn', get: (r) => r.owner_tid, cell: (r) => threadLabel(r.owner_tid, r.owner_name) },
        { key: 'freer_tid', label: 'Freed by', type: 'text', cls: 'fn', get: (r) => r.freer_tid, cell: (r) => threadLabel(r.freer_tid, r.freer_name) },
        { key: 'blocks', label: 'Blocks', type: 'count', est: true },
        { key: 'bytes', label: 'Bytes', type: 'bytes', est: true },
        { key: 'top_function', label: 'Top allocating function', type: 'text', cls: 'fn', get: (r) => r.top_function || '' , cell: (r) => r.top_function || '—' },
      ],
      rows,
      sort: ['bytes', 'desc'],
      noun: 'pairs',
      rowKey: (r) => r.pid + ':' + r.owner_tid + ':' + r.freer_tid,
      search: (r) => r.owner_tid + ' ' + r.owner_name + ' ' + r.freer_tid + ' ' + r.freer_name + ' ' + (r.top_function || '') + ' ' + (r.top_stack || ''),
      searchPlaceholder: 'Filter by thread or function…',
      expand: (r) => {
        const st = arr(r.stacks);
        if (!st.length) return framesView(null, r.top_stack);
        return h('div', null, st.map((s) => h('div', { style: 'margin:8px 0 12px' },
          h('div', { class: 'frames-head' }, h('code', { text: s.function }), h('span', { text: fmtCount(s.blocks) + ' blocks · ' + fmtBytes(s.bytes) })),
          framesView(stackOf(s), s.stack))));
      },
      empty: 'No block was freed by a thread other than the one that allocated it.',
    });
    tablePanel(main, 'Pairs', tbl);
  }

  function heatMap (parent, rows) {
    if (!rows.length) {
      parent.appendChild(emptyNote('No cross-thread frees', 'Each thread freed only its own blocks.'));
      return;
    }
    // The 40 threads whose blocks others free the most, as rows, and the
    // threads that free them, as columns in the order they first appear
    // down the rows (a hand-off pattern reads as a diagonal).
    const name = new Map();
    const k = (pid, tid) => pid + ':' + tid;
    const given = new Map();
    for (const r of rows) {
      given.set(k(r.pid, r.owner_tid), (given.get(k(r.pid, r.owner_tid)) || 0) + r.bytes);
      name.set(k(r.pid, r.owner_tid), threadLabel(r.owner_tid, r.owner_name));
      name.set(k(r.pid, r.freer_tid), threadLabel(r.freer_tid, r.freer_name));
    }
    const cap = 40;
    const owners = Array.from(given.keys()).sort((a, b) => given.get(b) - given.get(a)).slice(0, cap);
    const rank = new Map(owners.map((o, i) => [o, i]));
    const freers = [];
    const seen = new Set();
    const ordered = rows.filter((r) => rank.has(k(r.pid, r.owner_tid)))
      .sort((a, b) => rank.get(k(a.pid, a.owner_tid)) - rank.get(k(b.pid, b.owner_tid)) || b.bytes - a.bytes);
    for (const r of ordered) {
      const f = k(r.pid, r.freer_tid);
      if (!seen.has(f) && freers.length < cap) {
        seen.add(f);
        freers.push(f);
      }
    }
    const hidden = given.size > owners.length || new Set(rows.map((r) => k(r.pid, r.freer_tid))).size > freers.length;
    const cell = new Map();
    let max = 0;
    for (const r of rows) {
      const key = k(r.pid, r.owner_tid) + '>' + k(r.pid, r.freer_tid);
      cell.set(key, r);
      if (r.bytes > max) max = r.bytes;
    }
    const label = (t) => { const s = name.get(t) || t; return s.length > 22 ? s.slice(0, 21) + '…' : s; };
    const cs = Math.max(16, Math.min(36, Math.floor(((parent.clientWidth || 900) - 200) / Math.max(1, freers.length))));
    const lw = 180;
    const th = 110;
    // Room on the right for the last column's slanted name.
    const width = lw + freers.length * cs + 130;
    const height = th + owners.length * cs + 26;
    const root = svg('svg', { width: String(width), height: String(height), role: 'img', 'aria-label': 'cross-thread frees heat map' });
    freers.forEach((f, j) => {
      const x = lw + j * cs + cs / 2;
      root.appendChild(svg('text', { x: String(x), y: String(th - 6), transform: 'rotate(-45 ' + x + ' ' + (th - 6) + ')' }, label(f)));
    });
    root.appendChild(svg('text', { x: String(lw + freers.length * cs / 2), y: '12', 'text-anchor': 'middle', style: 'font-family:var(--sans);font-weight:600' }, 'freed by →'));
    const styles = getComputedStyle(document.documentElement);
    const c0 = parseColour(styles.getPropertyValue('--heat-0'));
    const c1 = parseColour(styles.getPropertyValue('--heat-1'));
    owners.forEach((o, i) => {
      const y = th + i * cs;
      root.appendChild(svg('text', { x: String(lw - 8), y: String(y + cs / 2 + 4), 'text-anchor': 'end' }, label(o)));
      freers.forEach((f, j) => {
        const r = cell.get(o + '>' + f);
        const x = lw + j * cs;
        const frac = r ? Math.log1p(r.bytes) / Math.log1p(max || 1) : 0;
        const fill = r ? mix(c0, c1, 0.15 + 0.85 * frac) : 'var(--panel-2)';
        const rect = svg('rect', { class: 'cell', x: String(x), y: String(y), width: String(cs), height: String(cs), fill, rx: '2' });
        if (r) {
          rect.addEventListener('mousemove', (ev) => showTip(ev, threadLabel(r.owner_tid, r.owner_name) + ' → ' + threadLabel(r.freer_tid, r.freer_name), [
            { k: 'blocks', v: fmtCount(r.blocks) }, { k: 'bytes', v: fmtBytes(r.bytes) }, r.top_function ? { k: 'top function', v: r.top_function, mono: true } : null,
          ]));
          rect.addEventListener('mouseleave', hideTip);
        }
        root.appendChild(rect);
      });
    });
    root.appendChild(svg('text', { x: '4', y: String(th - 6), style: 'font-family:var(--sans);font-weight:600' }, 'allocated by ↓'));
    const box = h('div', { class: 'heat', dataset: { rows: String(owners.length), cols: String(freers.length) } }, root);
    parent.appendChild(box);
    if (hidden) parent.appendChild(h('p', { class: 'note', text: 'The ' + cap + ' threads whose blocks others free the most are shown, with the threads that free them; the table below has every pair.' }));
  }

  function parseColour (s) {
    s = String(s).trim();
    const m = /^#([0-9a-f]{6})$/i.exec(s);
    if (!m) return [200, 210, 240];
    const n = parseInt(m[1], 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }

  function mix (a, b, f) {
    return 'rgb(' + a.map((v, i) => Math.round(v + (b[i] - v) * f)).join(',') + ')';
  }

  // ---- Findings and correlations ----

  function viewFindings (main) {
    main.appendChild(pageHead('Findings and correlations', 'What memscope-aggregate flagged, with the evidence, and how CPU use relates to allocation and I/O.'));
    const list = scope().ownFindings(M.bottlenecks);
    const box = h('div', { class: 'findings' });
    const FIRST = 8;
    const more = list.length > FIRST ? h('button', { type: 'button', class: 'btn small', text: 'Show the other ' + (list.length - FIRST),
      onclick: () => { for (const b of list.slice(FIRST)) box.appendChild(findingCard(b, true)); more.remove(); } }) : null;
    for (const b of list.slice(0, FIRST)) box.appendChild(findingCard(b, true));
    main.appendChild(panel('Findings', { sub: list.length ? fmtCount(list.length) + ' found, high severity first' : null, note: more },
      list.length ? box
        : emptyNote('No findings', 'No hot call site, realloc chain, temporary churn, heap growth or CPU-bound allocation crossed its threshold (see memscope-aggregate(1), BOTTLENECKS).')));
    const c = M.correlations;
    const grid = h('div', { class: 'grid-2' });
    main.appendChild(grid);
    correlationPanel(grid, 'CPU vs allocation rate', c.cpu_vs_allocation_rate, 'threads');
    correlationPanel(grid, 'CPU vs I/O', c.cpu_vs_io, 'io');
  }

  function correlationPanel (parent, title, cor, what) {
    cor = obj(cor);
    const hasR = isNum(cor.r);
    const sub = hasR ? 'r = ' + fmtFixed(cor.r, 2) + ' over ' + fmtCount(cor.n) + ' ' + (cor.basis || 'points') : null;
    const p = panel(title, { sub, data: { correlation: what } });
    parent.appendChild(p);
    const body = $('.panel-body', p);
    const points = [];
    let xLabel = 'CPU (% of one core)';
    let yLabel = what === 'threads' ? 'allocations per second' : 'I/O bytes per second';
    if (what === 'threads') {
      for (const t of scope().threads) if (isNum(t.cpu_percent) && isNum(t.alloc_rate)) points.push({ x: t.cpu_percent, y: t.alloc_rate, label: 'thread ' + threadLabel(t.tid, t.name) });
    } else {
      for (const proc of scope().seriesProcs) {
        for (const s of resourceSeries(proc)) {
          const io = (s.io_read_bytes_per_second || 0) + (s.io_write_bytes_per_second || 0);
          if (isNum(s.cpu_percent) && (s.io_read_bytes_per_second != null || s.io_write_bytes_per_second != null)) points.push({ x: s.cpu_percent, y: io, label: 'process ' + proc.pid + ' at ' + fmtNs(s.time_ns) });
        }
      }
    }
    if (!hasR) {
      body.appendChild(h('div', { class: 'empty', dataset: { reason: cor.reason || '' } },
        h('strong', { text: 'No correlation: ' + (cor.reason || 'not computed') }),
        isNum(cor.n) ? fmtCount(cor.n) + ' ' + (cor.basis || 'points') + ' sampled; memscope-aggregate needs at least 3 with some variation.' : null));
      if (points.length < 2) return;
    }
    scatterChart(body, {
      id: 'scatter-' + what,
      points,
      line: hasR && isNum(cor.slope) && isNum(cor.intercept) ? { slope: cor.slope, intercept: cor.intercept } : null,
      xLabel,
      yLabel,
      xUnit: 'pct',
      yUnit: what === 'threads' ? 'rate' : 'brate',
      height: 260,
    });
    if (hasR) {
      const strength = Math.abs(cor.r) >= 0.8 ? 'strong' : Math.abs(cor.r) >= 0.5 ? 'moderate' : Math.abs(cor.r) >= 0.3 ? 'weak' : 'no clear';
      body.appendChild(h('p', { class: 'note', text: 'Pearson r = ' + fmtFixed(cor.r, 3) + ' (' + strength + (cor.r < 0 ? ' negative' : '') + ' correlation); fitted line y = ' +
        fmtShort(cor.slope) + ' × x ' + (cor.intercept < 0 ? '− ' : '+ ') + fmtShort(Math.abs(cor.intercept)) + '.' + (points.length ? '' : ' The samples themselves are not in the report.') }));
    }
  }

  // ---- Processes ----

  function viewProcesses (main) {
    const rows = M.processes;
    // How each process ended (schema 1.1 "end"; older reports have exited_normally only).
    function processEndBadge(r) {
      const end = r.end !== undefined ? r.end : (r.exited_normally === false ? 'unknown' : 'exit');
      if (end === 'signal') return [' ', h('span', { class: 'badge high', text: 'killed by signal ' + r.signal })];
      if (end === 'unknown') return [' ', h('span', { class: 'badge high', title: 'killed, crashed or _exit', text: 'no exit record' })];
      if (end === 'exec') return [' ', h('span', { class: 'badge', title: 'it became the program of the next process with its pid', text: 'exec' })];
      return null;
    }
    main.appendChild(pageHead('Processes', M.multi ? fmtCount(rows.length) + ' processes were profiled: the program and the children it started. Choose one to narrow the other views to it.'
      : 'One process was profiled' + (rows.length ? '' : '') + '. When the program starts others (and children are followed), each gets a row here.'));
    const tbl = dataTable({
      key: 'processes',
      columns: [
        { key: 'pid', label: 'PID', type: 'count', cell: (r) => FORMAT.text(r.pid) },
        { key: 'ppid', label: 'Parent', type: 'count', cell: (r) => FORMAT.text(r.ppid) },
        { key: 'program', label: 'Program', type: 'text', cls: 'fn', cell: (r) => h('span', { title: r.command_line || null }, r.program || '?', processEndBadge(r)) },
        { key: 'threads', label: 'Threads', type: 'count' },
        { key: 'allocations', label: 'Allocations', type: 'count', est: true },
        { key: 'frees', label: 'Frees', type: 'count', est: true },
        { key: 'bytes_allocated', label: 'Bytes', type: 'bytes', est: true },
        { key: 'peak_live_bytes', label: 'Peak', type: 'bytes', est: true },
        { key: 'leaked_bytes', label: 'Leaked', type: 'bytes', est: true },
        { key: 'rss', label: 'Peak RSS', type: 'bytes', get: (r) => (r.resources ? r.resources.rss_max_bytes : null) },
        { key: 'cpu', label: 'CPU', type: 'pct', get: (r) => (r.resources ? r.resources.cpu_percent : null) },
        { key: 'duration_ns', label: 'Duration', type: 'ns' },
      ],
      rows,
      sort: ['pid', 'asc'],
      noun: 'processes',
      rowKey: (r) => r.pid,
      rowClass: (r) => (r.pid === ui.pid ? 'selected' : ''),
      search: (r) => r.pid + ' ' + r.program + ' ' + r.command_line,
      searchPlaceholder: 'Filter by PID, program…',
      onRow: M.multi ? (r) => selectProcess(r.pid === ui.pid ? null : r.pid) : null,
      empty: 'No process was traced.',
    });
    tablePanel(main, null, tbl, { note: M.multi ? 'Click a process to narrow the overview, timeline, threads, peak, sizes and interactions to it; click it again for all.' : null });
  }

  // ---------------------------------------------------------------------
  // Self-test (?selftest=1): every view, the interactions a user makes, and
  // the figures as the page shows them, written on <body> for the tests.

  function digits (s) {
    const m = String(s || '').replace(/[,\u202f ]/g, '').match(/-?\d+/);
    return m ? m[0] : '';
  }

  function click (el) {
    if (!el) throw new Error('nothing to click');
    el.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, view: window }));
  }

  function mouse (el, type, x, y) {
    el.dispatchEvent(new MouseEvent(type, { bubbles: true, cancelable: true, clientX: x, clientY: y, view: window }));
  }

  function selfTest () {
    const t0 = performance.now();
    const out = {};
    const fails = [];
    const expect = (cond, msg) => { if (!cond) throw new Error(msg); };
    const step = (name, fn) => {
      const before = errors.length;
      try {
        fn();
      } catch (e) {
        fails.push(name + ': ' + (e && e.message || e));
        return;
      }
      if (errors.length > before) fails.push(name + ': ' + errors[errors.length - 1].split('\n')[0]);
    };
    const main = $('#view');
    const cellText = (tr, col) => { const td = tr && tr.querySelector('td[data-col="' + col + '"]'); return td ? td.textContent : ''; };
    const cellTitle = (tr, col) => { const td = tr && tr.querySelector('td[data-col="' + col + '"]'); return td ? td.title || td.textContent : ''; };
    const typeInto = (input, v) => {
      input.value = v;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    };
    // Opens a view and the first row of its table, which must unfold.
    const openFirst = (id, sel, what) => {
      go(id, {});
      const table = $(sel, main);
      const first = table && $('tbody tr.row', table);
      if (first) {
        click(first);
        expect($('tr.detail', table), what + ' does not open');
      }
      return { table, first };
    };

    let rendered = 0;
    for (const v of VIEWS) {
      step('view ' + v.id, () => {
        go(v.id, {});
        expect(main.childElementCount > 0, 'nothing drawn');
        expect(!$('.error-box', main), $('.error-box', main) ? $('.error-box', main).textContent : '');
        expect($('#nav a.active') && $('#nav a.active').dataset.view === v.id, 'navigation not updated');
        rendered++;
      });
    }
    out.views = String(rendered);

    step('overview figures', () => {
      go('overview', {});
      const fig = (name, part) => { const el = $('[data-figure="' + name + '"] .' + part, main); expect(el, 'no figure ' + name); return el.textContent; };
      out.shownAllocations = digits(fig('allocations', 'value'));
      out.shownFrees = digits(fig('frees', 'value'));
      out.shownLeakedBytes = digits(fig('leaked-bytes', 'exact'));
      out.shownLeakedBlocks = digits(fig('leaked-blocks', 'value'));
      out.shownPeakBytes = digits(fig('peak', 'exact'));
      out.shownThreads = digits(fig('threads', 'value'));
      out.estimateBadges = String($$('.badge.est').length);
      out.estimateBanner = $('[data-banner="estimate"]') ? '1' : '0';
      out.dataLossBanner = $('[data-banner="data-loss"]') ? '1' : '0';
      out.charts = String($$('.chart svg', main).length);
    });

    step('threads table', () => {
      go('threads', {});
      const table = $('table[data-table^="threads"]', main);
      expect(table, 'no thread table');
      out.threadRows = String($$('tbody tr.row', table).length);
      out.threadTotal = table.dataset.total;
      // Sort by allocations, both ways.
      const th = $('th[data-col="allocations"] button', table);
      click(th);
      let vals = $$('tbody tr.row', table).map((tr) => Number(digits(cellText(tr, 'allocations'))));
      const desc = vals.every((v, i) => i === 0 || vals[i - 1] >= v);
      click($('th[data-col="allocations"] button', table));
      vals = $$('tbody tr.row', table).map((tr) => Number(digits(cellText(tr, 'allocations'))));
      const asc = vals.every((v, i) => i === 0 || vals[i - 1] <= v);
      expect(desc && asc, 'sorting by allocations does not order the rows');
      expect($('th[data-col="allocations"]', table).getAttribute('aria-sort') === 'ascending', 'aria-sort not set');
      click($('th[data-col="peak_live_bytes"] button', table));
      // Filter by the first thread's TID.
      const first = $('tbody tr.row', table);
      const tid = cellText(first, 'tid');
      const input = $('input[data-search^="threads"]', main);
      typeInto(input, tid);
      const rows = $$('tbody tr.row', table);
      expect(rows.length >= 1 && rows.every((tr) => tr.textContent.includes(tid)), 'filter by TID failed');
      out.threadFilterRows = String(rows.length);
      // Open the thread: its details appear and the hash names it.
      click(rows[0]);
      expect($('tr.detail .thread-details', table), 'no thread details');
      expect(/[?&]tid=/.test(location.hash), 'hash does not name the thread');
      typeInto(input, '');
      // Alert chips filter.
      const chip = $('.chip[data-alert="high"]', main);
      click(chip);
      const t2 = $('table[data-table^="threads"]', main);
      expect($$('tbody tr.row', t2).every((tr) => tr.classList.contains('alert-high')), 'alert filter');
      click($('.chip[data-alert="all"]', main));
      // The hash opens the view with the thread shown.
      go('threads', { tid });
      expect($('tr.detail .thread-details[data-tid="' + cssEscape(tid) + '"]', main), 'the hash does not open the thread');
    });

    step('stacks', () => {
      go('stacks', { by: 'bytes' });
      let table = $('table[data-table^="stacks:bytes"]', main);
      expect(table, 'no stack table');
      const first = $('tbody tr.row', table);
      out.topStackFunction = first ? cellText(first, 'function') : '';
      out.stackRows = table.dataset.total;
      click($('[data-toggle="stacks-by"] button[data-value="count"]', main));
      table = $('table[data-table^="stacks:count"]', main);
      expect(table, 'by-count toggle did not switch');
      const counts = $$('tbody tr.row', table).map((tr) => Number(digits(cellText(tr, 'allocations'))));
      expect(counts.every((v, i) => i === 0 || counts[i - 1] >= v), 'by-count rows are not by count');
      click($('[data-toggle="stacks-by"] button[data-value="bytes"]', main));
      table = $('table[data-table^="stacks:bytes"]', main);
      const row = $('tbody tr.row', table);
      if (row) {
        click(row);
        const box = $('tr.detail .frames-box', table) || $('tr.detail .folded', table);
        expect(box, 'expanding a stack shows no frames');
        out.expandedFrames = box.dataset ? box.dataset.frames || '0' : '0';
        click(row);
        // Search by the top function name.
        const fn = cellText(row, 'function');
        const input = $('input[data-search^="stacks"]', main);
        typeInto(input, fn);
        const left = $$('tbody tr.row', table);
        expect(left.length >= 1, 'search found nothing');
        typeInto(input, 'no-such-function-\u0001');
        expect($$('tbody tr.row', table).length === 0, 'search does not filter');
        typeInto(input, '');
      }
    });

    step('flame graph', () => {
      for (const w of ['count', 'leaked', 'bytes']) {
        go('flame', { w });
        const box = $('.flame', main);
        if (!box) continue;
        expect(box.dataset.weight === w, 'weight ' + w);
      }
      const box = $('.flame', main);
      if (!box) return;
      out.flameNodes = box.dataset.nodes;
      const kids = $$('.fn', box).filter((el) => el.dataset.depth === '1' && el.textContent && !el.classList.contains('other'));
      if (kids.length) {
        click(kids[0]);
        expect(box.dataset.focus === kids[0].dataset.name, 'clicking a box does not zoom into it');
        expect($$('.crumbs button', main).length >= 2, 'no breadcrumb');
        click($('.crumbs button', main));
        expect(box.dataset.focus === '', 'the breadcrumb does not zoom out');
      }
      const input = $('input[data-search="flame"]', main);
      typeInto(input, kids.length ? kids[0].dataset.name : 'main');
      typeInto(input, '');
    });

    step('leaks', () => {
      const { table, first } = openFirst('leaks', 'table[data-table^="leaks"]', 'a leak');
      out.topFunction = first ? cellText(first, 'function') : '';
      out.topLeakBytes = first ? digits(cellTitle(first, 'leaked_bytes')) : '';
      out.topLeakBlocks = first ? digits(cellText(first, 'leaked_blocks')) : '';
      out.leakRows = table ? table.dataset.total : '0';
    });

    step('peak', () => {
      go('peak', {});
      out.shownPeakTime = ($('[data-figure="peak-time"] .value', main) || {}).textContent || '';
      const table = $('table[data-table^="peak"]', main);
      const first = table && $('tbody tr.row', table);
      out.peakTopFunction = first ? cellText(first, 'function') : '';
    });

    step('timeline zoom', () => {
      go('timeline', {});
      const chart = $('.chart[data-chart="heap"]', main);
      if (!chart) return;
      const x0 = Number(chart.dataset.x0);
      const x1 = Number(chart.dataset.x1);
      click($('button[data-zoom="in"]', main));
      const c2 = $('.chart[data-chart="heap"]', main);
      expect(Number(c2.dataset.x1) - Number(c2.dataset.x0) < x1 - x0, 'zoom in did not narrow the range');
      click($('button[data-zoom="reset"]', main));
      expect(Number(c2.dataset.x1) - Number(c2.dataset.x0) === x1 - x0, 'reset');
      // Brush across the middle half of the chart.
      const ov = $('.overlay', c2);
      const r = ov.getBoundingClientRect();
      if (r.width > 20) {
        mouse(ov, 'mousedown', r.left + r.width * 0.25, r.top + 5);
        mouse(ov, 'mousemove', r.left + r.width * 0.75, r.top + 5);
        mouse(window, 'mouseup', r.left + r.width * 0.75, r.top + 5);
        const span = Number(c2.dataset.x1) - Number(c2.dataset.x0);
        expect(span < (x1 - x0) * 0.7, 'brushing did not zoom');
        // The other charts of the view followed.
        const rate = $('.chart[data-chart="rate"]', main);
        if (rate) expect(rate.dataset.x0 === c2.dataset.x0, 'charts not linked');
        click($('button[data-zoom="reset"]', main));
        mouse(ov, 'mousemove', r.left + r.width * 0.5, r.top + 5);
        expect(!$('#tooltip').hidden, 'no hover read-out');
        mouse(ov, 'mouseleave', 0, 0);
      }
      out.timelineCharts = String($$('.chart svg', main).length);
    });

    step('temporary and sizes', () => {
      go('temporary', {});
      click($('[data-toggle="sizes-by"] button[data-value="bytes"]', main));
      expect($('[data-toggle="sizes-by"] button[data-value="bytes"]', main).getAttribute('aria-pressed') === 'true', 'sizes toggle');
      click($('[data-toggle="sizes-by"] button[data-value="allocations"]', main));
    });

    step('interactions', () => {
      const { table } = openFirst('interactions', 'table[data-table^="interactions"]', 'a thread pair');
      out.interactionRows = table ? table.dataset.total : '0';
    });

    step('findings', () => {
      go('findings', {});
      out.findings = String($$('.finding', main).length);
      out.scatterPoints = String($$('.chart[data-chart^="scatter"] circle', main).length);
    });

    step('processes', () => {
      go('processes', {});
      const table = $('table[data-table="processes"]', main);
      out.processRows = table ? table.dataset.total : '0';
      const sel = $('#process-select');
      if (sel && M.processes.length > 1) {
        const p = M.processes[M.processes.length - 1];
        sel.value = String(p.pid);
        sel.dispatchEvent(new Event('change', { bubbles: true }));
        go('threads', {});
        const rows = $$('table[data-table^="threads"] tbody tr.row', main);
        const pidsShown = new Set(rows.map((tr) => tr.dataset.key.split(':')[0]));
        expect(pidsShown.size <= 1 && (rows.length === 0 || pidsShown.has(String(p.pid))), 'the process selector does not narrow the threads');
        expect(/[?&]pid=/.test(location.hash), 'hash does not name the process');
        out.selectedProcessThreads = String(rows.length);
        go('overview', {});
        out.selectedProcessAllocations = digits(($('[data-figure="allocations"] .value', main) || {}).textContent);
        // The stack tables list the selected process's stacks alone.
        for (const [view, what] of [['stacks', 'Stacks'], ['leaks', 'Leaks']]) {
          go(view, {});
          const keys = $$('table[data-table^="' + view + '"] tbody tr.row', main).map((tr) => Number(tr.dataset.key));
          const foreign = keys.filter((k) => { const st = M.stackById.get(k); return !st || st.pid !== p.pid; });
          expect(foreign.length === 0, 'the process selector does not narrow the ' + view + ' (' + foreign.join(',') + ')');
          out['selectedProcess' + what] = String(keys.length);
        }
        selectProcess(null);
      }
    });

    step('escaping', () => {
      // No element may come from the report's strings.
      expect(!$('#view b, #view script, #view img'), 'markup from the report reached the page');
    });

    go('overview', {});
    if (errors.length) fails.push('errors: ' + errors.join(' | ').slice(0, 400));
    const body = document.body;
    for (const k of Object.keys(out)) body.setAttribute('data-' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()), out[k] == null ? '' : String(out[k]));
    body.dataset.jsErrors = String(errors.length);
    body.dataset.selftestMs = String(Math.round(performance.now() - t0));
    body.dataset.selftest = fails.length ? 'fail: ' + fails.join('; ') : 'ok';
  }

  // ---------------------------------------------------------------------
  // Start

  window.addEventListener('error', (ev) => { errors.push(String(ev.message || ev.error)); });

  function boot () {
    // From navigation to here: reading and parsing the page, data included.
    const t0 = performance.now();
    document.body.dataset.bootMs = String(Math.round(t0));
    const data = readJson('memscope-data');
    const rk = readJson('memscope-rankings');
    if (data.error || !data.value || typeof data.value !== 'object') {
      $('#view').replaceChildren(h('div', { class: 'error-box' },
        h('strong', { text: 'This page holds no readable report. ' }),
        data.error ? 'Its data could not be parsed: ' + data.error : 'The report is empty.',
        ' Produce it with memscope-html(1) from memscope-aggregate\'s JSON.'));
      document.body.dataset.selftest = 'fail: no report data' + (data.error ? ': ' + data.error : '');
      return;
    }
    M = buildModel(data.value, rk.value);
    drawFrame();
    window.addEventListener('hashchange', () => {
      if (location.hash === ui.renderedHash) return;
      render();
    });
    render();
    // Charts are drawn to the width they get: draw the view again when
    // that width changes (window resized, sidebar hidden).
    const view = $('#view');
    let drawnWidth = view.clientWidth;
    let resizeTimer = 0;
    const resized = () => {
      if (Math.abs(view.clientWidth - drawnWidth) < 2) return;
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { drawnWidth = view.clientWidth; render(); }, 120);
    };
    if (window.ResizeObserver) new ResizeObserver(resized).observe(view);
    else window.addEventListener('resize', resized);
    document.body.dataset.renderMs = String(Math.round(performance.now() - t0));
    document.body.dataset.ready = '1';
    if (/[?&]selftest=1\b/.test(location.search)) selfTest();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
