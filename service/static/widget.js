/* medcite embeddable widget (plain JavaScript, no framework, no build step).
 *
 * Embed with one tag:
 *   <script src="https://MEDCITE_HOST/widget.v1.js" data-site-key="mck_..." data-audience="patient" async></script>
 * Attributes: data-site-key (a site key listing this page's origin), data-audience (clinician | patient),
 * data-target (id of an element to render into inline; without it a launcher button opens a panel),
 * data-api (the service's base URL; default: where the script came from), data-question (ask this at once).
 *
 * Everything renders inside a Shadow DOM, so the host page's CSS cannot reach it and its CSS stays inside.
 * Nothing from the service is ever parsed as HTML: every node is built with createElement and textContent,
 * and only http(s) URLs become links.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var data = script.dataset;
  var api = (data.api || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  var siteKey = data.siteKey || "";
  var state = {
    audience: data.audience === "patient" ? "patient" : "clinician",
    conversationId: null, secret: null, lastQuestion: "", busy: false, answers: 0
  };
  var STEPS = [["submitted", "Submitted"], ["under_review", "Under review"], ["approved", "Approved"]];
  var AUDIENCES = [["clinician", "Healthcare professional"], ["patient", "Patient or carer"]];

  var CSS = [
    ":host{all:initial !important;display:block !important;visibility:visible !important;opacity:1 !important}",
    ":host([data-mode=launcher]){position:fixed !important;right:12px !important;bottom:12px !important;",
    "z-index:2147483000 !important;width:auto !important;height:auto !important}",
    ".mc-root{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2330;text-align:left}",
    ".mc-root *{box-sizing:border-box}",
    ".mc-launcher{font:inherit;font-weight:600;border:0;border-radius:24px;padding:10px 18px;background:#0b5cad;",
    "color:#fff;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.25);float:right}",
    ".mc-panel{background:#fff;border:1px solid #ccd2dc;border-radius:10px;padding:12px;overflow:auto}",
    "[data-mode=launcher] .mc-panel{position:absolute;right:0;bottom:52px;width:min(440px,calc(100vw - 24px));",
    "max-height:min(680px,calc(100vh - 80px));box-shadow:0 6px 24px rgba(0,0,0,.2)}",
    "[data-mode=inline] .mc-panel{max-width:760px}",
    ".mc-panel[hidden],.mc-passage[hidden]{display:none}",
    ".mc-head{display:flex;justify-content:space-between;align-items:center;gap:8px}",
    ".mc-title{font-size:1.05em;margin:0}",
    ".mc-close{font:inherit;font-size:1.3em;line-height:1;border:0;background:none;cursor:pointer;padding:2px 8px}",
    ".mc-audience{border:0;padding:0;margin:8px 0}.mc-audience legend{font-weight:600;padding:0}",
    ".mc-audience label{margin-right:14px;white-space:nowrap}",
    ".mc-answer{border-top:1px solid #e3e6ec;margin-top:10px;padding-top:6px}",
    ".mc-question{font-size:1.1em;margin:.3em 0}",
    ".mc-badge,.mc-updated,.mc-disclaimer{font-size:.88em;color:#5a6272}",
    ".mc-banner{background:#fff4d6;padding:6px 8px;border-radius:6px;margin:6px 0}",
    ".mc-status{display:flex;flex-wrap:wrap;gap:4px 12px;list-style:none;padding:0;margin:4px 0;color:#7a8190}",
    ".mc-status .mc-current{color:#1d2330;font-weight:650;border-bottom:2px solid #0b5cad}",
    ".mc-cite{font-size:.8em;vertical-align:super;margin-left:1px;color:#0b5cad;text-decoration:none}",
    ".mc-unsupported{background:#fde2e1}",
    ".mc-root a{color:#0b5cad}.mc-root h4{margin:.8em 0 .2em;font-size:1em}",
    ".mc-points{margin:.2em 0;padding-left:1.3em}",
    ".mc-references{padding-left:1.5em}.mc-references li{margin-bottom:8px;border-radius:4px}",
    ".mc-highlight{background:#e8f1fb;outline:2px solid #0b5cad}",
    ".mc-toggle,.mc-topic{font:inherit;font-size:.88em;border:1px solid #b8bfcc;border-radius:14px;",
    "background:#f6f7f9;padding:2px 10px;margin:3px 4px 0 0;cursor:pointer}",
    ".mc-passage blockquote{margin:4px 0 6px 10px;color:#3d4452;font-size:.9em;white-space:pre-wrap;",
    "overflow-wrap:anywhere}",
    ".mc-not-covered{background:#f3f4f7;padding:4px 10px 8px;border-radius:6px}",
    ".mc-form{display:flex;flex-direction:column;gap:6px;margin-top:10px}",
    ".mc-form label{font-weight:600}",
    ".mc-input{font:inherit;font-size:16px;padding:8px;border:1px solid #b8bfcc;border-radius:6px;width:100%;",
    "resize:vertical;color:#1d2330;background:#fff}",
    ".mc-send{align-self:flex-start;font:inherit;font-weight:600;border:0;border-radius:6px;padding:6px 18px;",
    "background:#0b5cad;color:#fff;cursor:pointer}.mc-send[disabled]{opacity:.6;cursor:wait}",
    ".mc-error{color:#a40000;margin:6px 0}.mc-error:empty{display:none}",
    ".mc-root :focus-visible{outline:3px solid #f0a500;outline-offset:2px}",
    ".mc-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
  ].join("");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) {
      if (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); }
    });
    return node;
  }

  function httpUrl(value) {
    if (!value) { return ""; }
    try {
      var url = new URL(String(value));  // no base: a relative or scheme-less value throws
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : "";
    } catch (e) { return ""; }
  }

  /* ---- the frame: Shadow DOM host, launcher or inline panel ---- */
  var host = el("medcite-widget");
  var target = data.target ? document.getElementById(data.target) : null;
  host.setAttribute("data-mode", target ? "inline" : "launcher");
  var shadow = host.attachShadow({ mode: "open" });
  if (shadow.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
    var sheet = new CSSStyleSheet();  // constructed sheets also work under a host CSP without 'unsafe-inline'
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } else {
    shadow.appendChild(el("style", { text: CSS }));
  }
  var root = el("div", { "class": "mc-root", "data-mode": target ? "inline" : "launcher" });
  shadow.appendChild(root);

  var panel = el("section", { "class": "mc-panel", id: "mc-panel", "aria-labelledby": "mc-title" });
  var title = el("h2", { "class": "mc-title", id: "mc-title", text: "Guideline-cited answers" });
  var head = el("div", { "class": "mc-head" }, [title]);
  var launcher = null;
  if (!target) {
    panel.setAttribute("role", "dialog");
    panel.hidden = true;
    launcher = el("button", { "class": "mc-launcher", type: "button", "aria-expanded": "false",
      "aria-controls": "mc-panel", text: "Ask a clinical question" });
    var close = el("button", { "class": "mc-close", type: "button", "aria-label": "Close", text: "\u00d7" });
    head.appendChild(close);
    launcher.addEventListener("click", function () { toggle(panel.hidden); });
    close.addEventListener("click", function () { toggle(false); });
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { toggle(false); } });
  }

  function toggle(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) { input.focus(); } else { launcher.focus(); }
  }

  var audience = el("fieldset", { "class": "mc-audience" }, [el("legend", { text: "Which best describes you?" })]);
  AUDIENCES.forEach(function (a) {
    var radio = el("input", { type: "radio", name: "mc-audience", value: a[0], "class": "mc-role-" + a[0] });
    radio.checked = a[0] === state.audience;
    radio.addEventListener("change", function () {
      if (!radio.checked) { return; }
      state.audience = a[0];
      if (state.lastQuestion && !state.busy) { ask(state.lastQuestion); }  // re-ask for this reader
    });
    audience.appendChild(el("label", {}, [radio, " " + a[1]]));
  });

  var thread = el("div", { "class": "mc-thread" });
  var live = el("p", { "class": "mc-sr", "aria-live": "polite", role: "status" });
  var error = el("p", { "class": "mc-error", role: "alert" });
  var label = el("label", { "for": "mc-input", "class": "mc-label", text: "Ask a clinical question" });
  var input = el("textarea", { id: "mc-input", "class": "mc-input", rows: "2", maxlength: "2000",
    placeholder: "e.g. What is the treatment for neuromyelitis optica?" });
  var send = el("button", { "class": "mc-send", type: "submit", text: "Ask" });
  var form = el("form", { "class": "mc-form", "aria-label": "Ask medcite" }, [label, input, send]);
  panel.appendChild(head);
  [audience, thread, error, form, live].forEach(function (n) { panel.appendChild(n); });
  if (launcher) { root.appendChild(panel); root.appendChild(launcher); } else { root.appendChild(panel); }
  (target || document.body).appendChild(host);

  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var question = input.value.trim();
    if (!question) { error.textContent = "Please type a question."; input.focus(); return; }
    ask(question);
  });

  /* ---- rendering an answer (streamed pieces and the final whole) ---- */
  function View(question) {
    this.uid = "mc-a" + (++state.answers);
    this.el = el("article", { "class": "mc-answer", "data-state": "streaming", "aria-busy": "true" });
    this.refs = {};
    this.headings = {};
    this.start(question);
  }

  View.prototype.start = function (question) {
    this.el.textContent = "";
    this.el.appendChild(el("h3", { "class": "mc-question", text: question }));
    this.summary = el("p", { "class": "mc-summary" });
    this.points = el("div", { "class": "mc-key-points" });
    this.refList = el("ol", { "class": "mc-references", "aria-label": "References" });
    this.el.appendChild(this.summary);
    this.el.appendChild(this.points);
    this.el.appendChild(this.refList);
    this.refs = {};
    this.headings = {};
  };

  View.prototype.cited = function (sentence) {
    var self = this;
    var span = el("span", { "class": "mc-sentence" + (sentence.supported === false ? " mc-unsupported" : ""),
      text: sentence.text });
    (sentence.citations || []).forEach(function (n) {
      var link = el("a", { "class": "mc-cite", href: "#" + self.uid + "-ref-" + n, "aria-label": "Reference " + n,
        "data-ref": String(n), text: "[" + n + "]" });
      link.addEventListener("click", function (e) { e.preventDefault(); self.show(n); });
      span.appendChild(document.createTextNode(" "));
      span.appendChild(link);
    });
    span.appendChild(document.createTextNode(" "));
    return span;
  };

  View.prototype.show = function (n) {
    var item = this.refs[n];
    if (!item) { return; }
    Array.prototype.forEach.call(this.el.querySelectorAll(".mc-highlight"), function (x) {
      x.classList.remove("mc-highlight");
    });
    item.classList.add("mc-highlight");
    item.scrollIntoView({ block: "nearest", behavior: "smooth" });
    item.focus({ preventScroll: true });
  };

  View.prototype.sentence = function (part, heading, sentence) {
    if (part === "summary") { this.summary.appendChild(this.cited(sentence)); return; }
    var list = this.headings[heading];
    if (!list) {
      this.points.appendChild(el("h4", { text: heading }));
      list = this.headings[heading] = el("ul", { "class": "mc-points" });
      this.points.appendChild(list);
    }
    list.appendChild(el("li", {}, [this.cited(sentence)]));
  };

  View.prototype.reference = function (r) {
    if (this.refs[r.number]) { return; }
    var li = el("li", { id: this.uid + "-ref-" + r.number, value: String(r.number), tabindex: "-1",
      "data-number": String(r.number) });
    li.appendChild(document.createTextNode((r.issuer || "") + (r.year ? " (" + r.year + ")" : "") + ". "));
    var href = httpUrl(r.url) || (r.doi ? httpUrl("https://doi.org/" + encodeURI(r.doi)) : "");
    li.appendChild(href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: r.title })
      : el("span", { text: r.title }));
    if (r.version) { li.appendChild(document.createTextNode(" (" + r.version + ")")); }
    if (r.superseded) { li.appendChild(el("em", { text: " Superseded by " + r.superseded_by + "." })); }
    var spans = r.spans || [];
    if (spans.length) {
      var id = this.uid + "-p-" + r.number;
      var label = spans.length === 1 ? "passage" : spans.length + " passages";
      var quotes = el("div", { "class": "mc-passage", id: id });
      spans.forEach(function (s) {
        quotes.appendChild(el("blockquote", {}, [el("strong", { text: s.section ? s.section + ": " : "" }), s.text]));
      });
      quotes.hidden = true;
      var button = el("button", { "class": "mc-toggle", type: "button", "aria-expanded": "false",
        "aria-controls": id, text: "show " + label });
      button.addEventListener("click", function () {
        quotes.hidden = !quotes.hidden;
        button.setAttribute("aria-expanded", String(!quotes.hidden));
        button.textContent = (quotes.hidden ? "show " : "hide ") + label;
      });
      li.appendChild(el("div", {}, [button]));
      li.appendChild(quotes);
    }
    this.refs[r.number] = li;
    this.refList.appendChild(li);
  };

  View.prototype.finish = function (a) {
    var self = this;
    this.start(a.question);
    this.el.setAttribute("data-answer-id", a.id);
    this.el.setAttribute("data-state", a.abstained ? "abstained" : "answered");
    this.el.removeAttribute("aria-busy");
    var after = function (node) { self.el.insertBefore(node, self.summary); };
    after(el("p", { "class": "mc-badge", text: "Composed from clinical guidelines; a medical reviewer checks each answer before approval." }));
    if (a.pending_review) { after(el("p", { "class": "mc-banner", role: "note", text: a.pending_review })); }
    var status = el("ol", { "class": "mc-status", "aria-label": "Review status" });
    STEPS.forEach(function (s) {
      var li = el("li", { text: s[1] });
      if (s[0] === a.review_status) { li.className = "mc-current"; li.setAttribute("aria-current", "step"); }
      status.appendChild(li);
    });
    after(status);
    var updated = el("p", { "class": "mc-updated" }, ["Last updated: " + (a.last_updated || a.created_at.slice(0, 10)) +
      " \u00b7 ", el("a", { href: api + "/editorial-policy", target: "_blank", rel: "noopener", text: "Editorial policy" })]);
    after(updated);
    if (a.abstained) {
      var box = el("section", { "class": "mc-not-covered" }, [el("h4", { text: "Not covered" }),
        el("p", { text: a.abstention_reason || "The guideline corpus does not cover this question." })]);
      if (a.nearest_topics && a.nearest_topics.length) {
        box.appendChild(el("p", { text: "Nearest topics covered:" }));
        var topics = el("div", { "class": "mc-topics" });
        a.nearest_topics.forEach(function (t) {
          var b = el("button", { "class": "mc-topic", type: "button", text: t });
          b.addEventListener("click", function () { ask(t, true); });
          topics.appendChild(b);
        });
        box.appendChild(topics);
      }
      after(box);
      this.el.removeChild(this.refList);
    } else {
      (a.summary_sentences || []).forEach(function (s) { self.sentence("summary", "", s); });
      (a.key_points || []).forEach(function (kp) {
        kp.items.forEach(function (item) { self.sentence("key_points", kp.heading, item); });
      });
      this.el.insertBefore(el("h4", { text: "References" }), this.refList);
      (a.references || []).forEach(function (r) { self.reference(r); });
    }
    this.el.appendChild(el("p", { "class": "mc-disclaimer", text: a.disclaimer }));
  };

  /* ---- talking to the service ---- */
  function parseBlock(block, on) {
    var event = "message", lines = [];
    block.split(/\r?\n/).forEach(function (line) {
      if (line.indexOf("event:") === 0) { event = line.slice(6).trim(); }
      else if (line.indexOf("data:") === 0) { lines.push(line.slice(5).replace(/^ /, "")); }
    });
    if (lines.length) { on(event, JSON.parse(lines.join("\n"))); }
  }

  function readEvents(res, on) {
    if (!res.body || !res.body.getReader) {
      return res.text().then(function (t) { t.split(/\r?\n\r?\n/).forEach(function (b) { parseBlock(b, on); }); });
    }
    var reader = res.body.getReader(), decoder = new TextDecoder(), buffer = "";
    function pump() {
      return reader.read().then(function (r) {
        buffer += decoder.decode(r.value || new Uint8Array(), { stream: !r.done });
        var m;
        while ((m = /\r?\n\r?\n/.exec(buffer))) {
          parseBlock(buffer.slice(0, m.index), on);
          buffer = buffer.slice(m.index + m[0].length);
        }
        if (r.done) { if (buffer.trim()) { parseBlock(buffer, on); } return undefined; }
        return pump();
      });
    }
    return pump();
  }

  function refusal(res) {
    return res.json().catch(function () { return {}; }).then(function (body) {
      var detail = body && typeof body.detail === "string" ? body.detail : "";
      if (res.status === 429) {
        var wait = parseInt(res.headers.get("Retry-After") || "", 10);
        return "Too many questions right now. Please try again in " + (wait > 0 ? wait + " seconds" : "a minute") + ".";
      }
      if (res.status === 403) { return "This site is not allowed to use the medcite service. " + detail; }
      if (res.status === 401) { return "The site key of this page is not valid; the site's owner must fix it."; }
      return detail || "The service could not answer (HTTP " + res.status + ").";
    });
  }

  function unreachable() {
    // A refused origin sees only a network error (no CORS headers); an opaque probe tells it from a dead server.
    return fetch(api + "/healthz", { mode: "no-cors", cache: "no-store", credentials: "omit" }).then(function () {
      return "This site is not allowed to use the medcite service (its address is not on the site key's list).";
    }, function () {
      return "The medcite service cannot be reached. Please check the connection and try again.";
    });
  }

  function ask(question, fresh) {
    if (state.busy) { return; }
    state.busy = true;
    send.disabled = true;
    error.textContent = "";
    if (fresh) { state.conversationId = null; state.secret = null; }
    var view = new View(question);
    thread.appendChild(view.el);
    live.textContent = "Answering: " + question;
    var headers = { "Content-Type": "application/json", "Accept": "text/event-stream" };
    if (siteKey) { headers.Authorization = "Bearer " + siteKey; }
    var body = { question: question, audience: state.audience };
    if (state.conversationId) {
      body.conversation_id = state.conversationId;
      if (state.secret) { headers["X-Conversation-Secret"] = state.secret; }
    }
    var done = null;
    fetch(api + "/v1/answers", { method: "POST", headers: headers, body: JSON.stringify(body), credentials: "omit" })
      .then(function (res) {
        if (!res.ok) { return refusal(res).then(function (m) { throw { message: m }; }); }
        return readEvents(res, function (event, payload) {
          if (event === "references") { payload.forEach(function (r) { view.reference(r); }); }
          else if (event === "sentence") {
            view.sentence(payload.part, payload.heading, payload.sentence);
            live.textContent = payload.sentence.text;
          } else if (event === "done") { done = payload; }
          else if (event === "error") { throw { message: payload.detail || "The answer failed." }; }
        });
      }, function () { return unreachable().then(function (m) { throw { message: m }; }); })
      .then(function () {
        if (!done) { throw { message: "The answer was interrupted. Please ask again." }; }
        view.finish(done);
        state.conversationId = done.conversation_id;
        if (done.conversation_secret) { state.secret = done.conversation_secret; }
        state.lastQuestion = question;
        input.value = "";
        label.textContent = "Have a follow-up question?";
        live.textContent = done.abstained ? "Not covered: no answer was given." : "Answer complete.";
      })
      .catch(function (e) {
        if (view.el.parentNode) { thread.removeChild(view.el); }
        error.textContent = (e && e.message) || "Something went wrong. Please try again.";
        live.textContent = "";
      })
      .then(function () { state.busy = false; send.disabled = false; });
  }

  if (data.question) {
    if (launcher) { toggle(true); }
    ask(data.question);
  }
})();
