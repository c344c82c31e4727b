/*
 * kindbot web chat client (plain ES2020, no dependencies, works offline).
 *
 * Protocol, relative to BASE = /chat/{channel_id} (channel id taken from location.pathname):
 *   Message = {"id": str, "direction": "inbound"|"outbound", "text": str, "at": ISO-8601}
 *   GET  BASE/info     -> {"title": str, "greeting": str|null, "language": "zh"|"en"}
 *   GET  BASE/history  -> {"messages": [Message, ...]}  oldest first
 *   WS   BASE/ws  client -> {"type": "message", "text": str, "client_id": str}
 *                 server -> {"type": "message", "message": Message, "client_id": str|null}
 *                           (the inbound echo carries the client_id it answers; bot replies
 *                            carry null and may arrive at any time)
 *                           {"type": "error", "code": str, "message": str}
 *   POST BASE/messages {"text": str, "client_id": str} -> {"messages": [Message, ...]}
 *        (fallback while the socket is down; errors: 4xx {"error": {"code", "message"}})
 * The visitor is identified by an HttpOnly cookie the browser sends by itself.
 * The socket reconnects with backoff 1 s, 2 s, 4 s ... 30 s and refetches history after
 * reconnecting; every rendered message is de-duplicated by its id.
 */
(function () {
  "use strict";

  const MAX_LEN = 2000;
  const TYPING_TIMEOUT_MS = 10000;
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 30000;

  // UI strings: key -> [Chinese, English].
  const STRINGS = {
    htmlLang: ["zh-CN", "en"],
    defaultTitle: ["在线客服", "Chat"],
    aiBadge: ["AI 助手", "AI assistant"],
    aiBadgeHint: ["您正在与 AI 助手对话，回复由 AI 生成",
      "You are chatting with an AI assistant; replies are AI-generated"],
    placeholder: ["输入消息（Enter 发送，Shift+Enter 换行）",
      "Type a message (Enter to send, Shift+Enter for a new line)"],
    inputLabel: ["消息", "Message"],
    messagesLabel: ["聊天记录", "Conversation"],
    send: ["发送", "Send"],
    typing: ["正在输入…", "Typing…"],
    reconnecting: ["连接已断开，正在重新连接…", "Connection lost. Reconnecting…"],
    error: ["出错了：", "Error: "],
    loadFailed: ["加载失败，请稍后刷新重试", "Could not load the chat. Please refresh later."],
    sendFailed: ["发送失败", "Message not sent"],
    tooLong: ["消息过长，最多 2000 字", "Message too long (max 2000 characters)"],
  };

  const $ = (id) => document.getElementById(id);
  const els = {
    title: $("title"), badge: $("ai-badge"), banner: $("banner"), list: $("messages"),
    typing: $("typing"), typingText: $("typing-text"), form: $("composer"),
    input: $("input"), inputLabel: $("input-label"), counter: $("counter"),
    send: $("send"), sendText: $("send-text"),
  };

  const state = {
    lang: "en", base: "", ws: null, backoff: BACKOFF_MIN_MS, reconnectTimer: null,
    resyncOnOpen: false, typingTimer: null,
    socketSeq: 0, // increments per socket: tells which socket a message went out on
    renderedIds: new Set(),
    pending: new Map(), // client_id -> element of an optimistic, unconfirmed message
  };

  // ---------- helpers ----------
  const t = (key) => STRINGS[key][state.lang === "zh" ? 0 : 1];

  function channelIdFromPath(pathname) {
    const parts = pathname.split("/").filter(Boolean);
    const i = parts.indexOf("chat");
    const raw = i >= 0 ? parts[i + 1] : parts[parts.length - 1];
    try { return decodeURIComponent(raw || ""); } catch (e) { return raw || ""; }
  }

  function newClientId() {
    const c = window.crypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID();
    const bytes = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(bytes);
    else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return "c-" + hex + "-" + Date.now().toString(36);
  }

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const charCount = (text) => Array.from(text).length; // code points, like Python's len()

  async function fetchJson(url, options) {
    const resp = await fetch(url, Object.assign({ credentials: "same-origin" }, options));
    const body = await resp.json().catch(() => null);
    if (!resp.ok) {
      const err = (body && body.error) || {};
      const e = new Error(err.message || resp.statusText || String(resp.status));
      e.code = err.code || "http_" + resp.status;
      throw e;
    }
    return body || {};
  }

  // ---------- language ----------
  function applyLanguage(lang) {
    state.lang = lang === "zh" ? "zh" : "en";
    document.documentElement.lang = t("htmlLang");
    els.badge.textContent = t("aiBadge");
    els.badge.title = t("aiBadgeHint");
    els.input.placeholder = t("placeholder");
    els.inputLabel.textContent = t("inputLabel");
    els.list.setAttribute("aria-label", t("messagesLabel"));
    els.sendText.textContent = t("send");
    els.typingText.textContent = t("typing");
    els.banner.textContent = t("reconnecting");
  }

  function applyTitle(title) {
    document.title = els.title.textContent = (title || "").trim() || t("defaultTitle");
  }

  // ---------- rendering ----------
  const scrollToBottom = () => { els.list.scrollTop = els.list.scrollHeight; };

  // Drops sentence punctuation after a URL; keeps a ")" that closes a "(" inside the URL.
  function trimUrl(url) {
    const count = (ch) => url.split(ch).length - 1;
    while (/[.,;:!?'")\]}>]$/.test(url) && !(url.endsWith(")") && count("(") >= count(")"))) {
      url = url.slice(0, -1);
    }
    return url;
  }

  function safeHttpUrl(raw) {
    let u;
    try { u = new URL(raw); } catch (e) { return null; }
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  }

  // Fills `container` with text nodes and, if `linkify`, safe <a> elements (never innerHTML).
  function fillText(container, text, linkify) {
    if (!linkify) { container.textContent = text; return; }
    const re = /https?:\/\/[^\s<>"'，。！？；：、（）【】「」《》]+/gi;
    let last = 0, m;
    while ((m = re.exec(text)) !== null) {
      const url = trimUrl(m[0]);
      const href = safeHttpUrl(url);
      if (!href) continue;
      container.appendChild(document.createTextNode(text.slice(last, m.index)));
      const a = container.appendChild(make("a", "", url));
      Object.assign(a, { href, target: "_blank", rel: "noopener noreferrer" });
      last = re.lastIndex = m.index + url.length;
    }
    container.appendChild(document.createTextNode(text.slice(last)));
  }

  function formatTime(iso) {
    const d = new Date(iso);
    const opts = { hour: "2-digit", minute: "2-digit" };
    return isNaN(d.getTime()) ? "" : d.toLocaleTimeString(t("htmlLang"), opts);
  }

  function fillMessage(el, msg) {
    const outbound = msg.direction === "outbound";
    el.className = "msg " + (outbound ? "outbound" : "inbound");
    el.dataset.id = msg.id;
    el.dataset.at = msg.at || "";
    el.removeAttribute("data-client-id");
    el.removeAttribute("title");
    el.textContent = "";
    fillText(el.appendChild(make("span", "text")), String(msg.text ?? ""), outbound);
    const choices = outbound && Array.isArray(msg.choices) ? msg.choices : [];
    if (choices.length) {
      const row = el.appendChild(make("div", "choices"));
      choices.forEach((choice, i) => {
        const button = row.appendChild(make("button", "choice", String(choice)));
        button.type = "button";
        button.addEventListener("click", () => sendText(String(i + 1)));
      });
    }
    const label = formatTime(msg.at);
    if (label) el.appendChild(make("time", "", label)).dateTime = msg.at;
  }

  // Inserts a confirmed message in time order (new ones normally go last, before pending ones).
  function insertByTime(el, at) {
    const when = Date.parse(at);
    let ref = null;
    for (let node = els.list.lastElementChild; node; node = node.previousElementSibling) {
      const isPending = node.classList.contains("pending");
      const later = node.dataset.at && Date.parse(node.dataset.at) > when;
      if (!isPending && !later) break;
      ref = node;
    }
    els.list.insertBefore(el, ref);
  }

  // Renders a server message once; confirms the optimistic bubble when clientId matches.
  function renderMessage(msg, clientId) {
    if (!msg || typeof msg.id !== "string" || state.renderedIds.has(msg.id)) return false;
    state.renderedIds.add(msg.id);
    const pendingEl = clientId ? state.pending.get(clientId) : null;
    if (pendingEl) state.pending.delete(clientId);
    const el = pendingEl || make("div");
    fillMessage(el, msg);
    if (!pendingEl) insertByTime(el, msg.at);
    if (msg.direction === "outbound") hideTyping();
    scrollToBottom();
    return true;
  }

  function renderPending(text, clientId) {
    const el = els.list.appendChild(make("div", "msg inbound pending"));
    el.dataset.clientId = clientId;
    el.appendChild(make("span", "text", text));
    state.pending.set(clientId, el);
    scrollToBottom();
    return el;
  }

  // Failed bubbles stay in `pending`: a late echo or history entry can still confirm them.
  function markFailed(clientId) {
    const el = state.pending.get(clientId);
    if (!el) return;
    el.classList.replace("pending", "failed");
    el.title = t("sendFailed");
  }

  function addNote(text, isError) {
    els.list.appendChild(make("div", isError ? "note error" : "note", text));
    scrollToBottom();
  }

  const showError = (code, message) => addNote(t("error") + (message || code || "?"), true);

  // ---------- typing indicator ----------
  function showTyping() {
    els.typing.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
    scrollToBottom();
  }

  function hideTyping() {
    clearTimeout(state.typingTimer);
    state.typingTimer = null;
    els.typing.hidden = true;
  }

  // ---------- history ----------
  // Renders history messages not seen yet; an inbound one with the same text as an
  // unconfirmed optimistic bubble confirms it (the echo may have been lost with the socket).
  function mergeHistory(messages) {
    for (const msg of messages) {
      if (!msg || state.renderedIds.has(msg.id)) continue;
      const match = msg.direction === "inbound" &&
        Array.from(state.pending).find(([, el]) => el.textContent === msg.text);
      renderMessage(msg, match ? match[0] : null);
    }
  }

  async function loadHistory() {
    const data = await fetchJson(state.base + "/history");
    const messages = Array.isArray(data.messages) ? data.messages : [];
    mergeHistory(messages);
    return messages.length;
  }

  // ---------- WebSocket ----------
  function setConnected(connected) {
    document.body.dataset.connected = connected ? "true" : "false";
    els.banner.hidden = connected;
  }

  function handleFrame(frame) {
    if (frame && frame.type === "message") renderMessage(frame.message, frame.client_id || null);
    if (!frame || frame.type !== "error") return;
    for (const cid of Array.from(state.pending.keys())) markFailed(cid);
    hideTyping();
    showError(frame.code, frame.message);
  }

  function connect() {
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + state.base;
    let ws;
    try { ws = new WebSocket(url + "/ws"); } catch (e) { scheduleReconnect(); return; }
    state.ws = ws;
    state.socketSeq += 1;
    ws.onopen = onSocketOpen;
    ws.onmessage = (ev) => {
      try { handleFrame(JSON.parse(ev.data)); } catch (e) { console.warn("kindbot: bad frame", e); }
    };
    ws.onclose = () => {
      if (state.ws !== ws) return;
      state.ws = null;
      setConnected(false);
      state.resyncOnOpen = true;
      scheduleReconnect();
    };
  }

  function onSocketOpen() {
    state.backoff = BACKOFF_MIN_MS;
    setConnected(true);
    if (!state.resyncOnOpen) return;
    state.resyncOnOpen = false;
    loadHistory().then(failUnconfirmedSocketSends).catch((e) => showError(e.code, e.message));
  }

  // A message sent on a socket that closed before its echo, and absent from the refetched
  // history, was lost: mark it failed rather than leaving it pending forever.
  function failUnconfirmedSocketSends() {
    for (const [cid, el] of Array.from(state.pending)) {
      if (el.dataset.socket && el.dataset.socket !== String(state.socketSeq)) markFailed(cid);
    }
  }

  function scheduleReconnect() {
    if (state.reconnectTimer) return;
    const delay = state.backoff;
    state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX_MS);
    state.reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (state.ws || !state.reconnectTimer) return;
    state.backoff = BACKOFF_MIN_MS;
    connect();
  }

  // ---------- sending ----------
  async function sendViaPost(text, clientId) {
    try {
      const data = await fetchJson(state.base + "/messages", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text, client_id: clientId }),
      });
      for (const msg of data.messages || []) {
        renderMessage(msg, msg && msg.direction === "inbound" ? clientId : null);
      }
    } catch (e) {
      markFailed(clientId);
      hideTyping();
      showError(e.code, e.message || t("sendFailed"));
    }
  }

  function sendMessage() {
    const text = els.input.value.trim();
    if (!text) return;
    if (charCount(text) > MAX_LEN) { addNote(t("tooLong"), true); return; }
    els.input.value = "";
    updateComposer();
    sendText(text);
  }

  // Sends one message (typed, or the number of a clicked choice button).
  function sendText(text) {
    const clientId = newClientId();
    const pendingEl = renderPending(text, clientId);
    showTyping();
    const ws = state.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "message", text, client_id: clientId }));
      pendingEl.dataset.socket = String(state.socketSeq);
    } else {
      sendViaPost(text, clientId);
    }
  }

  function updateComposer() {
    const n = charCount(els.input.value);
    els.counter.textContent = n + " / " + MAX_LEN;
    els.counter.classList.toggle("over", n > MAX_LEN);
    els.send.disabled = n > MAX_LEN;
    els.input.style.height = "auto";
    els.input.style.height = Math.min(els.input.scrollHeight + 2, 160) + "px";
  }

  function onKeyDown(ev) {
    if (ev.key !== "Enter" || ev.shiftKey || ev.isComposing || ev.keyCode === 229) return;
    ev.preventDefault();
    sendMessage();
  }

  // ---------- start-up ----------
  async function start() {
    const guess = (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
    applyLanguage(guess);
    applyTitle("");
    updateComposer();
    state.base = "/chat/" + encodeURIComponent(channelIdFromPath(location.pathname));
    els.form.addEventListener("submit", (ev) => { ev.preventDefault(); sendMessage(); });
    els.input.addEventListener("keydown", onKeyDown);
    els.input.addEventListener("input", updateComposer);
    window.addEventListener("online", reconnectNow);

    const info = await fetchJson(state.base + "/info").catch(() => null);
    if (info) {
      applyLanguage(info.language);
      applyTitle(info.title);
    }
    const count = await loadHistory().catch(() => null);
    if (!info || count === null) addNote(t("loadFailed"), true);
    if (count === 0 && info && info.greeting) addNote(String(info.greeting));
    document.body.dataset.ready = "true";
    connect();
  }

  start();
})();
