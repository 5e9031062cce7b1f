// The explorer page: plain JavaScript, no library, nothing fetched but this server's API.
"use strict";

const $ = (id) => document.getElementById(id);
const K = 10;
let models = [];
let sequence = 0;          // responses of older keystrokes are dropped
let controller = null;     // and their requests aborted
let stepIndex = 0;         // a Step uses seed + stepIndex: reproducible, yet not the same draw

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "width") node.style.width = value;   // CSSOM: allowed by the page's CSP
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

async function api(path, body, signal) {
  const response = await fetch(path, body === undefined ? {signal} : {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify(body), signal,
  });
  const data = await response.json();
  if (!response.ok) {
    const detail = Array.isArray(data.detail)
      ? data.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ")
      : data.detail;
    throw new Error(`${response.status}: ${detail}`);
  }
  return data;
}

const pct = (p) => (p >= 0.0995 ? (100 * p).toFixed(1) : p >= 0.00995 ? (100 * p).toFixed(2)
                    : (100 * p).toPrecision(2)) + "%";
const bucket = (rank) => (rank <= 10 ? "r10" : rank <= 100 ? "r100" : rank <= 1000 ? "r1000" : "rmore");
const fmt = (x, digits = 3) => (x === null || x === undefined ? "—" : Number(x).toFixed(digits));

// ---- next words -------------------------------------------------------------------------
function renderNext(data) {
  const box = $("next");
  box.replaceChildren();
  for (const m of data.models) {
    const info = models.find((x) => x.name === m.name) || {};
    const top = m.top[0] ? m.top[0].prob : 1;
    const list = el("ol", {class: "bars", "aria-label": `${m.name}: next words`});
    for (const c of m.top) {
      const item = el("li", {},
        el("button", {type: "button", class: "bar", "data-word": c.word, "data-prob": c.prob,
                      title: `add “${c.word}” to the text`,
                      onclick: () => addWords([c.word]),
                      onfocus: () => showPath(m, c.word), onmouseenter: () => showPath(m, c.word)},
          el("span", {class: "word"}, c.word),
          el("span", {class: "track"}, el("span", {class: "fill", width: `${(100 * c.prob / top).toFixed(1)}%`})),
          el("span", {class: "prob"}, pct(c.prob))));
      list.append(item);
    }
    const card = el("article", {class: "card", "data-model": m.name},
      el("h3", {}, m.name, el("small", {}, ` ${info.architecture || info.kind || ""}`)),
      list,
      el("p", {class: "eos"}, "P(</s>) ", el("strong", {class: "eos-prob"}, pct(m.eos_prob))),
      m.oov.length ? el("p", {class: "warn"}, `not in vocabulary (read as <unk>): ${m.oov.join(" ")}`) : null,
      m.backoff ? el("div", {class: "backoff", "aria-live": "polite"}) : null);
    card._model = m;
    box.append(card);
    if (m.backoff) showPath(m, m.top[0].word);   // the top word's path; hover or focus another
  }
}

function showPath(m, word) {
  if (!m.backoff) return;
  const card = document.querySelector(`.card[data-model="${CSS.escape(m.name)}"]`);
  if (!card) return;
  const answer = m.backoff.answers.find((a) => a.word === word);
  const rows = [];
  for (const s of m.backoff.steps) {
    const context = s.context === null ? "(before <s>)" : s.context.length ? s.context.join(" ") : "∅";
    let what;
    const answered = answer && answer.order === s.order;
    if (answered) what = answer.stored ? `“${word}” stored here: answers` : `seen context: γ/|V| answers`;
    else if (answer && s.order > answer.order) {
      what = s.status === "before-start" ? "reaches before <s>: skipped"
        : s.status === "unseen" ? "context never seen: back off"
        : `“${word}” never followed it: back off`;
    } else what = "";
    const gamma = s.gamma === null || !(answer && s.order > answer.order)
      ? "" : ` · γ = ${fmt(s.gamma, 4)}`;
    const discount = s.discount === null ? "" : Array.isArray(s.discount)
      ? ` · D = ${s.discount.map((d) => fmt(d, 2)).join(", ")}` : ` · D = ${fmt(s.discount, 2)}`;
    rows.push(el("li", {class: answered ? "answered" : answer && s.order < answer.order ? "unused" : ""},
      el("span", {class: "order"}, `${s.order}-gram`),
      el("span", {class: "ctx"}, `${context} → ${word}`),
      el("span", {class: "what"}, what + gamma + discount)));
  }
  const box = card.querySelector(".backoff");
  box.replaceChildren(
    el("h4", {}, `backoff path of “${word}” (${m.backoff.rule})`),
    el("ol", {class: "path"}, ...rows),
    answer ? el("p", {class: "hint"}, `P = ${answer.prob.toPrecision(4)}, answered by the ${answer.order}-gram`) : null);
}

// ---- per-token surprise ---------------------------------------------------------------------
function renderScore(data) {
  const box = $("score");
  box.replaceChildren();
  for (const m of data.models) {
    const line = el("p", {class: "tokens", "aria-label": `${m.name}: tokens coloured by rank`});
    m.tokens.forEach((t, i) => {
      const span = el("span", {class: `tok ${t.oov ? "oov" : bucket(t.rank)}${t.token === "</s>" && i === m.tokens.length - 1 ? " eos" : ""}`,
                               tabindex: "0", "data-rank": t.rank, "data-prob": t.prob}, t.token);
      const show = () => showTip(span, m.name, t);
      span.addEventListener("mouseenter", show);
      span.addEventListener("focus", show);
      span.addEventListener("mouseleave", hideTip);
      span.addEventListener("blur", hideTip);
      line.append(span, " ");
    });
    const ppl = m.perplexity === null ? "—" : m.perplexity.toFixed(2);
    box.append(el("div", {class: "scored", "data-model": m.name},
      el("h3", {}, m.name, el("span", {class: "ppl"}, "perplexity ", el("strong", {}, ppl),
        el("small", {}, ` (${m.tokens.length} tokens, </s> included)`))),
      line));
  }
}

function showTip(anchor, name, t) {
  const tip = $("tip");
  tip.replaceChildren(
    el("strong", {}, `${t.token}`), el("span", {}, ` · ${name}`),
    el("div", {}, `P = ${t.prob.toPrecision(4)} · ln P = ${fmt(t.logprob)} · rank ${t.rank}${t.oov ? " · <unk>" : ""}`),
    el("div", {class: "alts"}, "model expected: ",
      ...t.alternatives.map((a) => el("span", {}, `${a.word} ${pct(a.prob)}`))));
  tip.hidden = false;
  const box = anchor.getBoundingClientRect();
  const width = Math.min(320, window.innerWidth - 16);
  tip.style.maxWidth = `${width}px`;
  tip.style.left = `${Math.max(8, Math.min(box.left + window.scrollX, window.scrollX + window.innerWidth - width - 8))}px`;
  tip.style.top = `${box.bottom + window.scrollY + 6}px`;
}

function hideTip() { $("tip").hidden = true; }

// ---- updates as you type ----------------------------------------------------------------------
let timer = null;
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(update, 40);
}

async function update() {
  const text = $("text").value;
  const mine = ++sequence;
  if (controller) controller.abort();
  controller = new AbortController();
  const started = performance.now();
  try {
    const [next, score] = await Promise.all([
      api("/api/next", {text, k: K}, controller.signal),
      api("/api/score", {text}, controller.signal),
    ]);
    if (mine !== sequence) return;
    renderNext(next);
    renderScore(score);
    const ms = performance.now() - started;
    $("tokens-line").textContent = `${next.tokens.length} tokens · updated in ${ms.toFixed(0)} ms`;
    document.body.dataset.updated = String(mine);
  } catch (error) {
    if (error.name === "AbortError" || mine !== sequence) return;
    $("tokens-line").textContent = `error: ${error.message}`;
  }
}

function addWords(words) {
  const box = $("text");
  const base = box.value.replace(/\s+$/, "");
  box.value = (base ? base + " " : "") + words.join(" ") + " ";
  box.focus();
  update();
}

// ---- sampling ---------------------------------------------------------------------------------
function settings(steps) {
  const number = (id) => ($(id).value === "" ? null : Number($(id).value));
  return {model: $("sample-model").value, text: $("text").value,
          temperature: number("temperature") ?? 1, top_k: number("top-k"), top_p: number("top-p"),
          seed: (number("seed") ?? 0) + (steps === 1 ? stepIndex : 0), steps, show: 8};
}

async function sample(steps) {
  const list = $("samples");
  try {
    const data = await api("/api/sample", settings(steps));
    if (steps === 1) stepIndex += 1;
    list.replaceChildren();
    for (const w of data.words) {
      const top = w.distribution[0] ? w.distribution[0].prob : 1;
      list.append(el("li", {class: "drawn"},
        el("div", {class: "drawn-word"}, el("strong", {}, w.word),
          ` drawn with p = ${pct(w.prob)} (model: ${pct(w.model_prob)})`),
        el("ol", {class: "mini"}, ...w.distribution.map((d) => el("li", {class: d.word === w.word ? "chosen" : ""},
          el("span", {class: "word"}, d.word),
          el("span", {class: "track"}, el("span", {class: "fill", width: `${(100 * d.prob / top).toFixed(1)}%`})),
          el("span", {class: "prob"}, pct(d.prob)))))));
    }
    const words = data.words.map((w) => w.word).filter((w) => w !== "</s>");
    if (words.length) addWords(words);
    list.dataset.done = String(Number(list.dataset.done || 0) + 1);
  } catch (error) {
    list.replaceChildren(el("li", {class: "warn"}, `error: ${error.message}`));
  }
}

async function start() {
  try {
    const data = await api("/api/models");
    models = data.models;
    $("models-line").textContent = models.map((m) => `${m.name} (${m.architecture}, |V| ${m.vocabulary.toLocaleString()})`).join(" · ")
      + ` · tokenizer: ${data.tokenizer}`;
    for (const m of models) $("sample-model").append(el("option", {value: m.name}, m.name));
  } catch (error) {
    $("models-line").textContent = `error: ${error.message}`;
  }
  $("text").addEventListener("input", schedule);
  $("step").addEventListener("click", () => sample(1));
  $("to-end").addEventListener("click", () => sample(null));
  $("sample-form").addEventListener("submit", (event) => event.preventDefault());
  $("seed").addEventListener("input", () => { stepIndex = 0; });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") hideTip(); });
  update();
}

start();
