// The gallery page: proves who is looking once (Telegram's init data from the URL fragment, or a
// signed link), then shows the pack and presses the contact sheet's buttons through the server.
// No external script: Telegram passes tgWebAppData and tgWebAppThemeParams in the fragment.
"use strict";

const POLL_MS = 1500;
const state = { session: "", texts: {}, busy: false, timer: 0 };

function $(id) { return document.getElementById(id); }

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (all, name) => (name in values ? values[name] : all));
}

function applyTheme(raw) {
  if (!raw) return;
  let theme;
  try { theme = JSON.parse(raw); } catch (e) { return; }
  const root = document.documentElement;
  root.classList.add("telegram");
  for (const [name, colour] of Object.entries(theme)) {
    if (/^#[0-9a-fA-F]{3,8}$/.test(String(colour))) {
      root.style.setProperty("--tg-theme-" + name.replace(/_/g, "-"), colour);
    }
  }
}

// Telegram's own script would say these; without it, post them as it does (its Mini App protocol:
// a webview proxy on phones, window.external on desktop, a message to the parent frame on the web).
function tellTelegram(eventType) {
  const data = JSON.stringify({ eventType, eventData: {} });
  try {
    if (window.TelegramWebviewProxy) window.TelegramWebviewProxy.postEvent(eventType, "{}");
    else if (window.external && "notify" in window.external) window.external.notify(data);
    else if (window.parent !== window) window.parent.postMessage(data, "https://web.telegram.org");
  } catch (e) { /* not inside Telegram: a browser opening a signed link */ }
}

function refuse(text) {
  for (const id of ["styles", "coming", "toast", "viewer"]) $(id).hidden = true;
  document.querySelector("header").hidden = true;
  document.querySelector("footer").hidden = true;
  $("refused").textContent = text;
  $("refused").hidden = false;
}

async function call(path, options) {
  const headers = { "X-Gallery-Session": state.session };
  if (options && options.body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { ...(options || {}), headers });
  if (!response.ok) {
    refuse(await response.text());
    throw new Error("refused " + response.status);
  }
  return response.json();
}

function image(tile, full) {
  const s = encodeURIComponent(state.session);
  return `/gallery/img/${tile.job_id}/${tile.number}?s=${s}` + (full ? "&full=1" : "");
}

function toast(lines) {
  if (!lines.length) return;
  const box = $("toast");
  box.textContent = lines.join("\n");
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 4000);
}

async function press(data) {
  const answer = await call("/gallery/api/press", { method: "POST", body: JSON.stringify({ data }) });
  toast(answer.said);
  await load();
}

function tool(label, text, action) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-label", text);
  button.title = text;
  button.addEventListener("click", (event) => { event.stopPropagation(); action(); });
  return button;
}

function tileOf(grid, tile) {
  const texts = state.texts;
  const figure = document.createElement("figure");
  figure.className = "tile" + (tile.kept ? " kept" : "");
  figure.dataset.image = `${tile.job_id}:${tile.number}`;
  const img = document.createElement("img");
  img.loading = "lazy";
  img.decoding = "async";
  img.src = image(tile, false);
  img.alt = fill(texts.image, { title: grid.title, number: tile.number });
  img.addEventListener("click", () => press(`keep:${tile.job_id}:${tile.number}`));
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.textContent = tile.kept ? texts.kept : "";
  const tools = document.createElement("div");
  tools.className = "tools";
  tools.append(
    tool("🔁", texts.more, () => press(`more:${tile.job_id}:${tile.number}`)),
    tool("⤢", texts.full, () => showFull(tile)),
  );
  figure.append(img, badge, tools);
  return figure;
}

function sectionOf(grid) {
  const section = document.createElement("section");
  section.dataset.style = grid.style_id;
  const head = document.createElement("div");
  head.className = "style-head";
  const title = document.createElement("h2");
  title.textContent = grid.title;
  const reroll = fill(state.texts.reroll, { title: grid.title });
  head.append(title, tool("🎲", reroll, () => press(grid.reroll)));
  const tiles = document.createElement("div");
  tiles.className = "grid";
  tiles.append(...grid.tiles.map((tile) => tileOf(grid, tile)));
  section.append(head, tiles);
  return section;
}

function showFull(tile) {
  $("full").src = image(tile, true);
  $("viewer").hidden = false;
}

function render(page) {
  $("styles").replaceChildren(...page.styles.map(sectionOf));
  $("coming").hidden = !page.busy;
  state.busy = page.busy;
  clearTimeout(state.timer);
  if (page.busy) state.timer = setTimeout(load, POLL_MS);
}

async function load() {
  render(await call("/gallery/api/pack"));
}

function proof() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  applyTheme(fragment.get("tgWebAppThemeParams"));
  if (query.get("link")) return { link: query.get("link") };
  return { init_data: fragment.get("tgWebAppData") || "", pack: query.get("pack") || "" };
}

function label(texts) {
  $("title").textContent = texts.title;
  $("hint").textContent = texts.hint;
  $("coming").textContent = texts.coming;
  $("close").textContent = texts.close;
  const done = $("done");
  done.textContent = texts.done;
  done.href = "/gallery/zip?s=" + encodeURIComponent(state.session);
  done.hidden = false;
}

async function start() {
  const body = JSON.stringify(proof());
  history.replaceState(null, "", location.pathname + location.search); // the init data goes
  const response = await fetch("/gallery/api/session", {
    method: "POST", headers: { "Content-Type": "application/json" }, body,
  });
  if (!response.ok) { refuse(await response.text()); return; }
  const opened = await response.json();
  state.session = opened.session;
  state.texts = opened.texts;
  document.title = opened.texts.title;
  label(opened.texts);
  tellTelegram("web_app_ready");
  tellTelegram("web_app_expand");
  $("close").addEventListener("click", () => { $("viewer").hidden = true; });
  await load();
}

start().catch(() => {
  if ($("refused").hidden) refuse(state.texts.failed || "Something went wrong.");
});
