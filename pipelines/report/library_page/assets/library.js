/* The library browser page (reports/<Y>/library.html): list, search, filters, cards, pick basket.
   Every text from the data reaches the page through textContent or an SVG text node: never as markup.
   The page makes no request: the data is in the page, the export is a Blob URL the browser saves. */
(function () {
  "use strict";
  var SEP = "\u0001";
  var ROW_H = 34;
  var EXTRA_ROWS = 8;
  var t0 = performance.now();

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { e.textContent = String(text); }
    return e;
  }

  /* The data: JSON documents (the list, the texts, the cards in chunks of rows), each deflated and
     base64-encoded by the build (page.packed). */
  function inflate(id) {
    var bin = atob($(id).textContent.trim());
    var bytes = new Uint8Array(bin.length);
    for (var k = 0; k < bin.length; k++) { bytes[k] = bin.charCodeAt(k); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).text().then(JSON.parse);
  }

  var L, R, B, N, FOLD;
  /* What an indicator keeps from one release to the next (id, name, symbol, texts, standards) comes
     in blocks of consecutive ids, each its own document (library_page/blocks.py: last year's bytes
     repeat, so git stores a new page as a small delta); L.rows.runs maps the list's rows onto id
     order (start, length, …). Resolves to the blocks' columns in the list's order. */
  function blocks(prefix) {
    var parts = [];
    for (var k = 0; k < L.blocks; k++) { parts.push(inflate(prefix + k)); }
    return Promise.all(parts).then(function (docs) {
      var out = {}, runs = L.rows.runs;
      Object.keys(docs[0]).forEach(function (key) {
        var byId = [].concat.apply([], docs.map(function (d) { return d[key]; }));
        var col = new Array(N), n = 0;
        for (var r = 0; r < runs.length; r += 2) {
          for (var p = runs[r], end = p + runs[r + 1]; p < end; p++) { col[n++] = byId[p]; }
        }
        out[key] = col;
      });
      return out;
    });
  }
  var textsPromise = null, textsReady = false;
  /* The searched texts join the rows (R.alias, R.kw, R.def, R.hay) when they arrive. */
  function texts() {
    if (textsPromise === null) {
      textsPromise = blocks("lib-tb-").then(function (doc) {
        Object.keys(doc).forEach(function (k) { R[k] = doc[k]; });
        textsReady = true;
      });
    }
    return textsPromise;
  }
  /* Card data comes in chunks of rows, each its own document: opening a card inflates one chunk.
     The history is one document per year (targets and changes by indicator id, with the year's own
     unit and department labels): the first card inflates them all and maps their labels onto B. */
  var chunks = {}, yearsPromise = null;
  /* A year's ids as cards.id_runs writes them: prefix, digits, first number, count, … */
  function idsOf(runs) {
    var ids = [];
    for (var r = 0; r < runs.length; r += 4) {
      for (var j = 0; j < runs[r + 3]; j++) {
        ids.push(runs[r + 1] ? runs[r] + String(runs[r + 2] + j).padStart(runs[r + 1], "0") : runs[r]);
      }
    }
    return ids;
  }
  function years() {
    if (yearsPromise === null) {
      yearsPromise = Promise.all((L.years || []).map(function (y) { return inflate("lib-year-" + y); })).then(function (docs) {
        var unitOf = {}, deptOf = {};
        B.unit.forEach(function (u, k) { unitOf[u] = k; });
        B.dept.forEach(function (d, k) { deptOf[d[0]] = k; });
        docs.forEach(function (doc) {
          doc.at = new Map(idsOf(doc.ids).map(function (id, k) { return [id, k]; }));
          doc.unitIdx = doc.unit.map(function (u) { return unitOf[u]; });
          doc.deptIdx = doc.dept.map(function (d) { return deptOf[d]; });
        });
        return docs;
      });
    }
    return yearsPromise;
  }
  /* An indicator's history across the years, in the card's shapes: sp [[year, unit, n, depts, min,
     median, max]], se [[dept, year, target, year, target, …]] by department code, ev [[year, tag,
     type, reason, detail]]; 0 where it has none. */
  function history(id, docs) {
    var sp = [], ev = [], se = {};
    docs.forEach(function (doc) {
      var k = doc.at.get(id);
      if (k === undefined) { return; }
      (doc.sp[k] || []).forEach(function (p) { sp.push([doc.year, doc.unitIdx[p[0]]].concat(p.slice(1))); });
      (doc.se[k] || []).forEach(function (s) {
        var d = doc.deptIdx[s[0]];
        se[d] = se[d] || [d];
        // [department] alone: the target of the year before (the previous document's, so the last here)
        se[d].push(doc.year, s.length > 1 ? s[1] : se[d][se[d].length - 1]);
      });
      (doc.ev[k] || []).forEach(function (e) { ev.push([doc.year].concat(e)); });
    });
    var series = Object.keys(se).map(function (d) { return se[d]; }).sort(function (a, b) {
      var x = B.dept[a[0]][0], y = B.dept[b[0]][0];
      return x < y ? -1 : x > y ? 1 : 0;
    });
    return { sp: sp.length ? sp : 0, se: series.length ? series : 0, ev: ev.length ? ev : 0 };
  }
  var standards = null;  // the cards' id-order blocks, inflated by the first card
  function cardOf(i) {
    var k = Math.floor(i / L.chunk);
    if (!chunks[k]) { chunks[k] = Promise.all([texts(), inflate("lib-card-" + k)]).then(function (d) { return d[1]; }); }
    if (standards === null) { standards = blocks("lib-cb-"); }
    return Promise.all([chunks[k], years(), standards]).then(function (got) {
      var chunk = got[0], row = history(R.id[i], got[1]), j = i - k * L.chunk, fixed = got[2];
      Object.keys(chunk).forEach(function (key) { row[key] = chunk[key][j]; });
      Object.keys(fixed).forEach(function (key) { row[key] = fixed[key][i]; });
      return row;
    });
  }

  /* Query folding: the index text was folded in Python (繁→简, full → half width, lower case);
     the query gets the same per-character map (built from opencc), NFKC, the map again. */
  function mapChars(s) {
    var out = "";
    for (var ch of s) { var m = FOLD[ch]; out += (m === undefined ? ch : m); }
    return out;
  }
  function foldQuery(q) {
    return mapChars(mapChars(q).normalize("NFKC")).toLowerCase().replace(/\s+/g, " ").trim();
  }

  var HAY = null;
  function hay(i) {
    if (HAY === null) { HAY = new Array(N); }
    var h = HAY[i];
    if (h === undefined) {
      h = R.hay[i] || [R.id[i], R.name[i], R.alias[i], R.kw[i], R.def[i]].join(SEP).normalize("NFKC").toLowerCase();
      HAY[i] = h;
    }
    return h;
  }

  /* Rank of one term in a row: 0 id or name, 1 other names and keywords, 3 definition, -1 absent. */
  function termRank(h, t) {
    var p = h.indexOf(t);
    if (p < 0) { return -1; }
    var e2 = h.indexOf(SEP, h.indexOf(SEP) + 1);
    if (p < e2) { return 0; }
    var e4 = h.indexOf(SEP, h.indexOf(SEP, e2 + 1) + 1);
    if (p < e4) { return 1; }
    return 3;
  }

  var F = {};
  var FILTERS = ["scope", "l1", "l2", "cls", "kuan", "dept", "status"];
  var shown = [];
  var basket = new Map();

  function filterValue(name) {
    var v = $("f-" + name).value;
    return v === "" ? -1 : Number(v);
  }

  function passes(i, f) {
    if (f.status >= 0 && R.st[i] !== f.status) { return false; }
    if (f.scope >= 0 && R.scope[i] !== f.scope) { return false; }
    if (f.l1 >= 0 && R.l1[i] !== f.l1) { return false; }
    if (f.l2 >= 0 && R.l2[i] !== f.l2) { return false; }
    if (f.cls >= 0 && R.cls[i] !== f.cls) { return false; }
    if (f.kuan >= 0 && R.kuan[i] !== f.kuan) { return false; }
    if (f.dept >= 0 && R.dep[i].indexOf(f.dept) < 0) { return false; }
    return true;
  }

  function search() {
    var started = performance.now();
    var raw = $("q").value;
    var q = foldQuery(raw);
    var terms = q ? q.split(" ") : [];
    if (terms.length && !textsReady) {  // typed before the texts arrived: search once they have
      $("count").textContent = "正在载入检索数据……";
      texts().then(search);
      return;
    }
    FILTERS.forEach(function (name) { F[name] = filterValue(name); });
    var out = [], rank = [];
    for (var i = 0; i < N; i++) {
      if (!passes(i, F)) { continue; }
      if (terms.length) {
        var h = hay(i), total = 0;
        for (var k = 0; k < terms.length && total >= 0; k++) {
          var r = termRank(h, terms[k]);
          total = r < 0 ? -1 : total + r;
        }
        if (total < 0) { continue; }
        var s1 = h.indexOf(SEP);
        if (h.substr(s1, q.length + 2) === SEP + q + SEP || h.lastIndexOf(q + SEP, 0) === 0) { total = -1; }
        rank[i] = total;
      }
      out.push(i);
    }
    if (terms.length) {
      out.sort(function (a, b) {
        return (rank[a] - rank[b]) || (R.name[a].length - R.name[b].length) || (a - b);
      });
    }
    shown = out;
    var list = $("list");
    list.scrollTop = 0;
    $("spacer").style.height = (shown.length * ROW_H) + "px";
    renderRows();
    var count = $("count");
    count.textContent = "显示 " + shown.length + " 个，共 " + N + " 个指标" + (raw.trim() ? "（检索：" + raw.trim() + "）" : "");
    count.dataset.query = raw;
    count.dataset.ms = String(Math.round(performance.now() - started));
  }

  /* The virtualised list: only the rows in view (plus a few) exist in the DOM; the spacer keeps the
     scroll height of all of them. Rows have one fixed height, so a row's place is index × height. */
  function renderRows() {
    var list = $("list"), spacer = $("spacer");
    var first = Math.max(0, Math.floor(list.scrollTop / ROW_H) - EXTRA_ROWS);
    var last = Math.min(shown.length, Math.ceil((list.scrollTop + list.clientHeight) / ROW_H) + EXTRA_ROWS);
    var frag = document.createDocumentFragment();
    for (var p = first; p < last; p++) { frag.appendChild(rowElement(shown[p], p)); }
    spacer.replaceChildren(frag);
  }

  function rowElement(i, p) {
    var row = el("div", "row" + (R.st[i] ? " off" : ""));
    row.setAttribute("role", "listitem");
    row.tabIndex = 0;  // Enter opens the card, as a click does
    row.dataset.i = String(i);
    row.style.top = (p * ROW_H) + "px";
    var pick = el("button", "pick" + (basket.has(R.id[i]) ? " on" : ""), basket.has(R.id[i]) ? "✓" : "＋");
    pick.type = "button";
    pick.title = basket.has(R.id[i]) ? "移出选择" : "加入选择";
    pick.dataset.id = R.id[i];
    row.appendChild(pick);
    row.appendChild(el("span", "c-id", R.id[i]));
    row.appendChild(el("span", "c-name", R.name[i]));
    row.appendChild(el("span", "c-scope", B.scope[R.scope[i]]));
    row.appendChild(el("span", "c-level", B.l1[R.l1[i]] + " / " + B.l2[R.l2[i]]));
    row.appendChild(el("span", "c-unit", B.unit[R.unit[i]]));
    row.appendChild(el("span", "c-dept", R.dep[i].length ? R.dep[i].length + " 个部门" : ""));
    row.appendChild(el("span", "c-status", B.status[R.st[i]][1]));
    return row;
  }

  function option(select, value, text) {
    var o = el("option", "", text);
    o.value = String(value);
    select.appendChild(o);
  }

  function fillSelect(name, items, label) {
    var s = $("f-" + name);
    var keep = s.value;
    s.replaceChildren();
    option(s, "", label);
    items.forEach(function (item) { option(s, item[0], item[1]); });
    s.value = items.some(function (item) { return String(item[0]) === keep; }) ? keep : "";
  }

  function indexed(list, text) {
    return list.map(function (x, i) { return [i, text(x)]; });
  }

  function fillFilters() {
    fillSelect("scope", indexed(B.scope, String), "全部范围");
    fillSelect("l1", indexed(B.l1, String), "全部一级指标");
    fillSelect("cls", indexed(B.cls, function (c) { return (c[0] + " " + c[1]).trim(); }), "全部功能分类（类）");
    fillSelect("dept", indexed(B.dept, function (d) { return (d[0] + " " + d[1]).trim(); }), "全部部门");
    fillSelect("status", indexed(B.status, function (s) { return s[1]; }), "全部状态");
    $("f-status").value = "0";
    fillDependent();
  }

  /* 二级 under the chosen 一级, 款 under the chosen 类: only combinations some indicator has. */
  function fillDependent() {
    var l1 = filterValue("l1"), cls = filterValue("cls");
    var l2 = new Set(), kuan = new Set();
    for (var i = 0; i < N; i++) {
      if (l1 < 0 || R.l1[i] === l1) { l2.add(R.l2[i]); }
      if (R.kuan[i] >= 0 && (cls < 0 || R.cls[i] === cls)) { kuan.add(R.kuan[i]); }
    }
    fillSelect("l2", Array.from(l2).sort(function (a, b) { return a - b; }).map(function (i) { return [i, B.l2[i]]; }), "全部二级指标");
    fillSelect("kuan", Array.from(kuan).sort(function (a, b) { return a - b; }).map(function (i) {
      return [i, (B.kuan[i][0] + " " + B.kuan[i][1]).trim()];
    }), "全部功能分类（款）");
  }

  /* ---- the card ---- */
  function field(dl, label, value) {
    if (value === undefined || value === null || value === "" || value === 0) { return; }
    dl.appendChild(el("dt", "", label));
    dl.appendChild(el("dd", "", value));
  }

  function fmt(v) { return typeof v === "number" ? String(Math.round(v * 1e6) / 1e6) : String(v); }

  function spreadChart(points, unit) {
    var W = 420, H = 170, left = 56, right = 16, top = 14, bottom = 30;
    var lo = Math.min.apply(null, points.map(function (p) { return p[4]; }));
    var hi = Math.max.apply(null, points.map(function (p) { return p[6]; }));
    if (hi === lo) { hi = lo + 1; lo = lo - 1; }
    var y = function (v) { return top + (H - top - bottom) * (1 - (v - lo) / (hi - lo)); };
    var step = (W - left - right) / points.length;
    var chart = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "class": "chart" });
    chart.appendChild(svg("title", {}, "目标值分布（" + unit + "）：每年最小值—最大值，圆点为中位数"));
    chart.appendChild(svg("line", { x1: left, y1: top, x2: left, y2: H - bottom, "class": "axis" }));
    chart.appendChild(svg("text", { x: left - 6, y: y(hi) + 4, "text-anchor": "end", "class": "tick" }, fmt(hi)));
    chart.appendChild(svg("text", { x: left - 6, y: y(lo) + 4, "text-anchor": "end", "class": "tick" }, fmt(lo)));
    points.forEach(function (p, k) {
      var x = left + step * (k + 0.5);
      chart.appendChild(svg("line", { x1: x, y1: y(p[4]), x2: x, y2: y(p[6]), "class": "range" }));
      chart.appendChild(svg("circle", { cx: x, cy: y(p[5]), r: 5, "class": "median" }));
      chart.appendChild(svg("text", { x: x, y: H - 10, "text-anchor": "middle", "class": "tick" }, p[0] + " 年"));
      chart.appendChild(svg("text", { x: x + 9, y: y(p[5]) + 4, "class": "val" }, fmt(p[5])));
    });
    return chart;
  }

  function table(head, rows, cls) {
    var t = el("table", cls || "");
    var tr = el("tr");
    head.forEach(function (h) { tr.appendChild(el("th", "", h)); });
    t.appendChild(el("thead")).appendChild(tr);
    var body = t.appendChild(el("tbody"));
    rows.forEach(function (r) {
      var row = el("tr");
      r.forEach(function (c) { row.appendChild(el("td", "", c)); });
      body.appendChild(row);
    });
    return t;
  }

  function spreadSection(box, sp) {
    box.appendChild(el("h3", "", "目标值分布（定量目标，按年度）"));
    if (!sp) { box.appendChild(el("p", "muted", "无数值型目标值。")); return; }
    box.appendChild(table(["年度", "单位", "目标值个数", "部门数", "最小值", "中位数", "最大值"], sp.map(function (p) {
      return [p[0], B.unit[p[1]], p[2], p[3], fmt(p[4]), fmt(p[5]), fmt(p[6])];
    }), "spread"));
    var counts = {};
    sp.forEach(function (p) { counts[p[1]] = (counts[p[1]] || 0) + p[2]; });
    var unit = Number(Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a] || a - b; })[0]);
    box.appendChild(spreadChart(sp.filter(function (p) { return p[1] === unit; }), B.unit[unit]));
  }

  function seriesSection(box, se) {
    box.appendChild(el("h3", "", "各部门目标值"));
    if (!se) { box.appendChild(el("p", "muted", "尚无部门使用记录。")); return; }
    var years = new Set();
    se.forEach(function (s) { for (var k = 1; k < s.length; k += 2) { years.add(s[k]); } });
    var ys = Array.from(years).sort();
    box.appendChild(table(["部门"].concat(ys.map(function (y) { return y + " 年"; })), se.map(function (s) {
      var d = B.dept[s[0]], by = {};
      for (var k = 1; k < s.length; k += 2) { by[s[k]] = s[k + 1]; }
      return [(d[0] + " " + d[1]).trim()].concat(ys.map(function (y) { return by[y] || "—"; }));
    }), "series"));
  }

  function historySection(box, ev) {
    box.appendChild(el("h3", "", "变更记录"));
    if (!ev) { box.appendChild(el("p", "muted", "无变更记录。")); return; }
    var ol = el("ol", "history");
    ev.forEach(function (e) {
      var li = el("li");
      li.appendChild(el("span", "when", e[0] + " 年度（" + e[1] + "）"));
      li.appendChild(el("span", "what", e[2]));
      if (e[3]) { li.appendChild(el("span", "why", "理由：" + e[3])); }
      if (e[4]) { li.appendChild(el("span", "detail", e[4])); }
      ol.appendChild(li);
    });
    box.appendChild(ol);
  }

  function showCard(i) {
    return cardOf(i).then(function (c) { drawCard(i, c); });
  }

  function drawCard(i, c) {
    var box = $("card");
    box.replaceChildren();
    box.dataset.id = R.id[i];
    var head = el("div", "card-head");
    head.appendChild(el("h2", "", R.name[i]));
    var pick = el("button", "pick-card", basket.has(R.id[i]) ? "移出选择" : "加入选择");
    pick.type = "button";
    pick.dataset.id = R.id[i];
    head.appendChild(pick);
    box.appendChild(head);
    var meta = [R.id[i], B.scope[R.scope[i]], B.status[R.st[i]][1]];
    if (B.origin.length > 1 || B.origin[0] === "上级") { meta.push("来源层级：" + B.origin[R.org[i]]); }
    box.appendChild(el("p", "meta", meta.join(" · ")));
    var dl = el("dl");
    field(dl, "一级 / 二级指标", B.l1[R.l1[i]] + " / " + B.l2[R.l2[i]]);
    var cls = R.cls[i] >= 0 ? (B.cls[R.cls[i]][0] + " " + B.cls[R.cls[i]][1]).trim() : "";
    var kuan = R.kuan[i] >= 0 ? (B.kuan[R.kuan[i]][0] + " " + B.kuan[R.kuan[i]][1]).trim() : "";
    field(dl, "功能分类", [cls, kuan, c.fcode].filter(Boolean).join(" › "));
    field(dl, "指标解释", R.def[i]);
    field(dl, "计算公式", c.formula);
    field(dl, "计量单位", B.unit[R.unit[i]]);
    field(dl, "计算符号", R.sym[i]);
    field(dl, "指标性质", c.nature);
    field(dl, "关键词", R.kw[i]);
    field(dl, "曾用名 / 同义名称", R.alias[i]);
    field(dl, "国家标准", c.nat);
    field(dl, "行业标准", c.indstd);
    field(dl, "标准来源（指标出处）", c.ssrc);
    field(dl, "指标来源", c.isrc);
    field(dl, "入库 / 最近使用年度", c.fy ? c.fy + " 年 / " + c.ly + " 年" : "");
    field(dl, "退出", c.ry ? c.ry + " 年：" + (c.rr || "原因未填写") : "");
    if (c.into) {
      dl.appendChild(el("dt", "", "并入指标"));
      var link = el("a", "", c.into);
      link.href = "#" + encodeURIComponent(c.into);  // opens that indicator's card (hashchange)
      dl.appendChild(el("dd")).appendChild(link);
    }
    field(dl, "最近变更", c.lcy ? c.lcy + " 年 " + c.lct + (c.lcr ? "：" + c.lcr : "") : "");
    box.appendChild(dl);
    spreadSection(box, c.sp);
    seriesSection(box, c.se);
    box.appendChild(el("h3", "", "使用部门（" + R.dep[i].length + "）"));
    box.appendChild(el("p", "depts", R.dep[i].map(function (d) { return (B.dept[d][0] + " " + B.dept[d][1]).trim(); }).join("、") || "无"));
    historySection(box, c.ev);
    box.scrollTop = 0;
  }

  /* ---- the pick basket ---- */
  function csvCell(s) {
    s = String(s);
    if (/^[=+\-@\t\r]/.test(s)) { s = "'" + s; }  // a spreadsheet opening the file must not run it
    return /[",\r\n]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
  }

  function pickCsv() {
    var lines = ["indicator_id,name"];
    basket.forEach(function (name, id) { lines.push(csvCell(id) + "," + csvCell(name)); });
    return lines.join("\r\n") + "\r\n";
  }

  function renderBasket() {
    var ul = $("blist");
    ul.replaceChildren();
    basket.forEach(function (name, id) {
      var li = el("li");
      li.appendChild(el("span", "b-id", id));
      li.appendChild(el("span", "b-name", name));
      var x = el("button", "unpick", "×");
      x.type = "button";
      x.title = "移出选择";
      x.dataset.id = id;
      li.appendChild(x);
      ul.appendChild(li);
    });
    $("bcount").textContent = String(basket.size);
    $("export").disabled = basket.size === 0;
    $("bclear").disabled = basket.size === 0;
  }

  function toggle(id) {
    var i = R.id.indexOf(id);
    if (basket.has(id)) { basket.delete(id); } else if (i >= 0) { basket.set(id, R.name[i]); }
    renderBasket();
    renderRows();
    if ($("card").dataset.id === id) { showCard(i); }
  }

  function exportPick() {
    var blob = new Blob([pickCsv()], { type: "text/csv;charset=utf-8" });
    var url = URL.createObjectURL(blob);
    var a = el("a");
    a.href = url;
    a.download = "pick_" + L.year + ".csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  /* ---- wiring ---- */
  function openFromHash() {
    var id = decodeURIComponent(location.hash.replace(/^#/, "")).toUpperCase();
    var i = id ? R.id.indexOf(id) : -1;
    if (i >= 0) { showCard(i); }
  }

  function wire() {
    $("q").addEventListener("input", search);
    FILTERS.forEach(function (name) {
      $("f-" + name).addEventListener("change", function () {
        if (name === "l1" || name === "cls") { fillDependent(); }
        search();
      });
    });
    $("reset").addEventListener("click", function () {
      $("q").value = "";
      FILTERS.forEach(function (name) { $("f-" + name).value = ""; });
      $("f-status").value = "0";
      fillDependent();
      search();
    });
    var pending = false;
    $("list").addEventListener("scroll", function () {
      if (pending) { return; }
      pending = true;
      requestAnimationFrame(function () { pending = false; renderRows(); });
    });
    $("list").addEventListener("click", function (ev) {
      var target = ev.target;
      if (target.classList.contains("pick")) { toggle(target.dataset.id); return; }
      var row = target.closest(".row");
      if (row) { showCard(Number(row.dataset.i)); }
    });
    $("list").addEventListener("keydown", function (ev) {
      var row = ev.target.closest && ev.target.closest(".row");
      if (ev.key === "Enter" && row && !ev.target.classList.contains("pick")) { showCard(Number(row.dataset.i)); }
    });
    $("card").addEventListener("click", function (ev) {
      if (ev.target.classList.contains("pick-card")) { toggle(ev.target.dataset.id); }
    });
    $("blist").addEventListener("click", function (ev) {
      if (ev.target.classList.contains("unpick")) { toggle(ev.target.dataset.id); }
    });
    $("bclear").addEventListener("click", function () { basket.clear(); renderBasket(); renderRows(); });
    $("export").addEventListener("click", exportPick);
    window.addEventListener("hashchange", openFromHash);
  }

  /* After the first paint: fold the search texts, a slice at a time so typing is never blocked for
     long, while the clerk reads; then read the years' history, so the first card opens at once. */
  function warm(from) {
    var end = Math.min(N, from + 2000);
    for (var i = from; i < end; i++) { hay(i); }
    if (end < N) { setTimeout(function () { warm(end); }, 0); } else { setTimeout(years, 0); }
  }

  /* The list document is plain JSON (git deltas it against last year's page); the others are deflated. */
  var list = new Promise(function (ok) { ok(JSON.parse($("lib-list").textContent)); });
  Promise.all([list, inflate("lib-fold")]).then(function (docs) {
    L = docs[0]; R = L.rows; B = L.labels; N = L.n; FOLD = docs[1];
    return blocks("lib-lb-");
  }).then(function (fixed) {
    Object.keys(fixed).forEach(function (key) { R[key] = fixed[key]; });
    var inflated = performance.now();
    wire();
    fillFilters();
    search();
    renderBasket();
    openFromHash();
    document.body.dataset.ready = "1";
    document.body.dataset.initMs = String(Math.round(performance.now() - t0));
    document.body.dataset.readyAt = String(Math.round(performance.now()));
    // where the time went, for benchmarks/bench_library_page.py: script start, data inflated, list drawn
    document.body.dataset.phases = [t0, inflated, performance.now()].map(Math.round).join(" ");
    setTimeout(function () { texts().then(function () { warm(0); }); }, 0);
  }).catch(function (err) {
    $("count").textContent = "指标数据无法读取（" + err + "）。请用较新版本的 Chrome、Edge 或 Firefox 打开本页。";
  });
})();
