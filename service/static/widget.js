/* medcite embeddable chat widget.
 * Embed: <div id="medcite"></div>
 *        <script src="https://YOUR-HOST/static/widget.js" data-target="medcite" defer></script>
 * Optional attributes: data-api (API base URL; default: the script's origin), data-audience (clinician|patient).
 * Renders answers as the service returns them: status banner, summary with [n] links, key points,
 * numbered references with quoted passages, disclaimer, and a follow-up box tied to the conversation.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var api = (script && script.dataset.api) || (script ? new URL(script.src).origin : "");
  var target = document.getElementById((script && script.dataset.target) || "medcite");
  if (!target) { return; }
  var state = { conversationId: null, audience: (script && script.dataset.audience) || "clinician" };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function cited(sentence, uid) {
    var span = el("span", { "class": "mc-sentence", text: sentence.text + " " });
    sentence.citations.forEach(function (n) {
      span.appendChild(el("a", { "class": "mc-cite", href: "#" + uid + "-ref-" + n, text: "[" + n + "]" }));
    });
    span.appendChild(document.createTextNode(" "));
    return span;
  }

  var STATES = [["submitted", "Submitted"], ["under_review", "Under review"], ["approved", "Approved"]];

  function render(a) {
    var uid = "mc-" + a.id.slice(0, 8);
    var box = el("article", { "class": "mc-answer", "data-answer-id": a.id });
    box.appendChild(el("h2", { "class": "mc-question", text: a.question }));
    box.appendChild(el("p", { "class": "mc-banner", text: a.pending_review }));
    var status = el("ol", { "class": "mc-status" });
    STATES.forEach(function (s) {
      status.appendChild(el("li", { "class": s[0] === a.review_status ? "mc-current" : "", text: s[1] }));
    });
    box.appendChild(status);
    if (a.last_updated) { box.appendChild(el("p", { "class": "mc-updated", text: "Last updated: " + a.last_updated })); }
    if (a.abstained) {
      box.appendChild(el("p", { "class": "mc-abstain",
        text: "The guideline corpus does not cover this question, so no answer is given." }));
      if (a.nearest_topics.length) {
        box.appendChild(el("p", { "class": "mc-nearest", text: "Nearest topics covered: " + a.nearest_topics.join("; ") }));
      }
    } else {
      var summary = el("p", { "class": "mc-summary" });
      a.summary_sentences.forEach(function (s) { summary.appendChild(cited(s, uid)); });
      box.appendChild(summary);
      a.key_points.forEach(function (kp) {
        box.appendChild(el("h3", { "class": "mc-heading", text: kp.heading }));
        var list = el("ul", { "class": "mc-points" });
        kp.items.forEach(function (item) { list.appendChild(el("li", {}, [cited(item, uid)])); });
        box.appendChild(list);
      });
      box.appendChild(el("h3", { text: "References" }));
      var refs = el("ol", { "class": "mc-references" });
      a.references.forEach(function (r) {
        var link = r.url || (r.doi ? "https://doi.org/" + r.doi : "");
        var li = el("li", { id: uid + "-ref-" + r.number, value: String(r.number) });
        li.appendChild(document.createTextNode(r.issuer + " " + (r.year || "") + ". "));
        li.appendChild(link ? el("a", { href: link, target: "_blank", rel: "noopener", text: r.title }) : el("span", { text: r.title }));
        li.appendChild(document.createTextNode(r.version ? " (" + r.version + ")" : ""));
        if (r.superseded) { li.appendChild(el("em", { "class": "mc-superseded", text: " Superseded by " + r.superseded_by + "." })); }
        r.spans.forEach(function (s) { li.appendChild(el("blockquote", { text: s.section + ": " + s.text })); });
        refs.appendChild(li);
      });
      box.appendChild(refs);
    }
    box.appendChild(el("p", { "class": "mc-disclaimer", text: a.disclaimer }));
    return box;
  }

  var role = el("select", { "class": "mc-role", "aria-label": "Which best describes you?" }, [
    el("option", { value: "clinician", text: "Healthcare professional" }),
    el("option", { value: "patient", text: "Patient or carer" }),
  ]);
  role.value = state.audience;
  role.addEventListener("change", function () { state.audience = role.value; });
  var thread = el("div", { "class": "mc-thread", "aria-live": "polite" });
  var input = el("textarea", { "class": "mc-input", rows: "2", maxlength: "2000", placeholder: "Ask a clinical question" });
  var send = el("button", { "class": "mc-send", type: "submit", text: "Ask" });
  var error = el("p", { "class": "mc-error", role: "alert" });
  var label = el("label", { "class": "mc-label", text: "Ask a question" });
  var form = el("form", { "class": "mc-form" }, [label, input, send]);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value.trim();
    if (!question) { error.textContent = "Please type a question."; return; }
    error.textContent = "";
    send.disabled = true;
    var body = { question: question, audience: state.audience };
    if (state.conversationId) { body.conversation_id = state.conversationId; }
    fetch(api + "/v1/answers", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then(function (res) { return res.json().then(function (data) { return { ok: res.ok, data: data }; }); })
      .then(function (r) {
        if (!r.ok) { throw new Error(r.data.detail || "request failed"); }
        state.conversationId = r.data.conversation_id;
        thread.appendChild(render(r.data));
        input.value = "";
        label.textContent = "Have a follow-up question?";
      })
      .catch(function (e) { error.textContent = "Sorry: " + e.message; })
      .then(function () { send.disabled = false; });
  });

  var style = el("style", { text:
    ".mc-root{font:15px/1.45 system-ui,sans-serif;max-width:760px;border:1px solid #ccd;border-radius:8px;padding:12px}" +
    ".mc-banner{background:#fff4d6;padding:6px 8px;border-radius:4px}.mc-status{display:flex;gap:12px;list-style:none;padding:0;color:#888}" +
    ".mc-status .mc-current{color:#000;font-weight:600}.mc-cite{font-size:.8em;vertical-align:super;margin-right:2px}" +
    ".mc-references blockquote{margin:2px 0 6px 12px;color:#555;font-size:.9em}.mc-disclaimer{font-size:.85em;color:#555}" +
    ".mc-form{display:flex;flex-direction:column;gap:6px;margin-top:10px}.mc-error{color:#b00}.mc-answer{border-top:1px solid #eee;margin-top:10px}" });
  var root = el("section", { "class": "mc-root" }, [style,
    el("label", { "class": "mc-role-label", text: "Which best describes you? " }, [role]), thread, form, error]);
  target.appendChild(root);
})();
