/* Shared helpers: translated strings, DOM, storage, HTTP and Socket.IO with acks. */
"use strict";
const BG = (() => {
  const catalogue = JSON.parse(document.getElementById("i18n").textContent || "{}");
  const lang = document.documentElement.lang || "en";
  const numberFormat = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });

  /** Translated string for key, with %(name)s placeholders filled from params. */
  function t(key, params) {
    let s = catalogue[key] ?? key;
    if (params) s = s.replace(/%\((\w+)\)s/g, (m, k) => (k in params ? String(params[k]) : m));
    return s;
  }
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.from((root || document).querySelectorAll(sel)); }
  /** Create an element: el("li", {class: "x", text: "y"}, [children]). */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children || []) node.append(c);
    return node;
  }
  function num(x) {
    if (x === null || x === undefined || Number.isNaN(x)) return "–";
    return numberFormat.format(x);
  }
  function money(x) { return num(Math.round((x || 0) * 100) / 100); }
  /** Set an element's text only when it changes (live regions then announce real news only). */
  function setText(sel, text) {
    const n = $(sel);
    if (n && n.textContent !== String(text)) n.textContent = text;
  }

  const store = {
    get(key, session) {
      try { return JSON.parse((session ? sessionStorage : localStorage).getItem(key)); } catch { return null; }
    },
    set(key, value, session) {
      try { (session ? sessionStorage : localStorage).setItem(key, JSON.stringify(value)); } catch { /* private mode */ }
    },
    del(key) { try { localStorage.removeItem(key); sessionStorage.removeItem(key); } catch { /* ignore */ } },
  };

  /** JSON over HTTP; resolves to {ok, status, data}. */
  async function api(path, options) {
    const opts = Object.assign({ headers: {} }, options || {});
    if (opts.json !== undefined) {
      opts.body = JSON.stringify(opts.json);
      opts.headers["Content-Type"] = "application/json";
      delete opts.json;
    }
    try {
      const resp = await fetch(path, opts);
      noteServerClock(resp);
      let data = null;
      try { data = await resp.json(); } catch { data = null; }
      return { ok: resp.ok, status: resp.status, data };
    } catch (err) {
      return { ok: false, status: 0, data: { error: { code: "network", message: String(err) } } };
    }
  }

  /** Socket.IO connection with a status line and a promise-based emit; ``route``: a seat's
   * team route (see ``reroute``), when the page already knows it. */
  function connect(statusSel, route) {
    const socket = io(Object.assign({ reconnectionDelayMax: 4000 }, route ? { query: { team: route } } : {}));
    const status = statusSel ? $(statusSel) : null;
    const show = (text, cls) => { if (status) { status.textContent = text; status.className = "conn " + cls; } };
    show(t("connecting"), "wait");
    socket.on("connect", () => show(t("connected"), "ok"));
    socket.on("disconnect", () => show(t("reconnecting"), "bad"));
    socket.on("connect_error", () => show(t("reconnecting"), "bad"));
    socket.request = (event, payload) => new Promise((resolve) => {
      socket.timeout(10000).emit(event, payload, (err, ack) => {
        if (err) resolve({ ok: false, error: { code: "timeout", message: t("reconnecting") } });
        else resolve(ack || { ok: false, error: { code: "bad_request", message: "no answer" } });
      });
    });
    return socket;
  }

  /** With several server processes the server names a seat's team ``route`` in the join and
   * resume acks: connect again with it, so that the proxy puts the page on the process its
   * teammates use (the connection's "connect" handler resumes the seat). */
  function reroute(socket, route) {
    const query = socket.io.opts.query || {};
    if (!route || query.team === route) return;
    socket.io.opts.query = Object.assign({}, query, { team: route });
    socket.disconnect();
    socket.connect();
  }

  /** A refusal in the page's language: the catalogue's text for its stable code, else the server's message. */
  function errorText(ack) {
    const e = (ack && (ack.error || ack)) || {};
    const key = "err_" + e.code;
    if (!(key in catalogue)) return e.message || e.code || "error";
    // a malformed request is the page's or the form's fault: the server's detail helps fix it
    // (and a refused scenario's message names the key, as on the command line)
    const detail = (e.code === "bad_request" || e.code === "invalid_scenario") && e.message;
    if (!detail) return catalogue[key];
    // the server's detail is in English: say so on a page in another language
    const english = (document.documentElement.lang || "en").startsWith("en");
    return catalogue[key] + " (" + (english ? "" : catalogue.detail_en + ": ") + e.message + ")";
  }

  // The server's clock minus ours, from the Date header (whole seconds, so only a clear
  // difference counts): round deadlines are the server's epoch seconds.
  let skew = 0;
  function noteServerClock(resp) {
    const date = Date.parse(resp.headers.get("Date") || "");
    if (Number.isNaN(date)) return;
    const diff = (date - Date.now()) / 1000;
    skew = Math.abs(diff) > 2 ? diff : 0;
  }

  /** Seconds left until an epoch deadline of the server (null when there is none). */
  function secondsLeft(deadline) {
    if (!deadline) return null;
    return Math.max(0, Math.ceil(deadline - (Date.now() / 1000 + skew)));
  }

  /** A team's display name: the server's default "Team n" in the page's language. */
  function teamName(team, name) {
    return !name || name === "Team " + team ? t("team_n", { n: team }) : name;
  }
  /** The title of a CODP position key in the page's language. */
  function codpTitle(key) {
    if (key && key.includes("=")) { // a process per segment: "segment=position,..."
      return key.split(",").map((part) => { const [seg, pos] = part.split("="); return seg + ": " + t("codp_" + pos); }).join("; ");
    }
    return key ? t("codp_" + key) : "";
  }

  /** Where a stock point (``"role/variant/region"``) stands: its variant and region, else
   * ``generic`` (default: the generic stock before the variant is made). */
  function stockPoint(name, generic) {
    return name.split("/").slice(1).map(nameOf).join(" · ") || (generic === undefined ? t("generic_stock") : generic);
  }

  /** "Week n of m", or "Week n" when the last week ``weeks`` is not told (absent). */
  function weekText(week, weeks) {
    return weeks ? t("week_of", { week, weeks }) : t("week_n", { n: week });
  }

  /** A team's strategy: its CODP and, where it has a web shop, the shop's mode. */
  function strategyTitle(codp, shop) {
    return [codpTitle(codp), shop ? t("shop_" + shop) : ""].filter(Boolean).join(" · ");
  }

  // The session's scenario title and stage labels in the page's language: from the page
  // (pages with a game code) or, on the join page, from GET /api/sessions/<code> (useTexts).
  const texts = JSON.parse((document.getElementById("scenario-texts") || {}).textContent || "null") || {};
  /** Adopt translated scenario texts ({title, labels, names}) sent by the server. */
  function useTexts(more) { if (more) Object.assign(texts, more); }
  /** A stage's display name in the page's language, else the label the server sent. */
  function roleLabel(role, label) { return (texts.labels || {})[role] || label || role || ""; }
  /** A segment's, region's or variant's name in the page's language, else as written. */
  function nameOf(name) { return (texts.names || {})[name] || name; }
  /** The scenario's title in the page's language, else the title the server sent. */
  function scenarioTitle(title) { return texts.title || title || ""; }

  /** What a CODP position means (a ``game.codp.describe_position``), one sentence per fact:
   * the stages that work to order, where stock is held, the lead time customers would be
   * quoted now, and what each customer segment would do. ``label``: role -> its name. */
  function codpFacts(p, label) {
    if (p.processes) return processFacts(p);
    const lang = document.documentElement.lang || undefined;
    const one = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
    const pct = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 });
    const list = (roles) => roles.map(label).join(", ");
    const lead = (p.from_stock ? "codp_lead_stock" : "codp_lead") + (p.lead_time === 1 ? "_one" : "");
    const facts = [
      p.to_order.length ? t("codp_to_order", { stages: list(p.to_order) }) : t("codp_none_to_order"),
      p.stock_at.length ? t("codp_stock_at", { stages: list(p.stock_at) }) : t("codp_no_stock"),
    ];
    if (p.to_order.length) facts.push(t(p.order_lead_time === 1 ? "codp_through_one" : "codp_through", { weeks: one.format(p.order_lead_time) }));
    facts.push(p.lead_time === null ? t("codp_lead_none") : t(lead, { weeks: one.format(p.lead_time) }));
    const segs = p.segments || [];
    if (segs.length > 1 || segs.some((g) => g.premium !== null)) {
      facts.push(t("codp_segments") + " " + segs.map((g) => {
        const part = t("codp_segment", { name: nameOf(g.name), share: pct.format(g.share), accept: pct.format(g.accept) });
        return g.premium === null ? part : part + " (" + t(g.premium ? "codp_premium_yes" : "codp_premium_no") + ")";
      }).join("; "));
    }
    return facts;
  }

  /** A process per segment (a ``game.codp.describe_processes``): each process and the segments
   * it serves, and what the processes beyond the first cost a week. */
  function processFacts(p) {
    const facts = p.processes.map((x) => t("codp_process", { position: codpTitle(x.position), segments: x.segments.map(nameOf).join(", ") }));
    if (p.cost) facts.push(t("codp_process_cost", { cost: money(p.cost) }));
    return facts;
  }

  return {
    t, $, $$, el, num, money, setText, store, api, connect, reroute, errorText, secondsLeft, teamName, codpTitle, strategyTitle, stockPoint, lang,
    useTexts, roleLabel, scenarioTitle, nameOf, codpFacts, weekText,
  };
})();
