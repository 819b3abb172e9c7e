// The supervisors' live page: renders each `live` snapshot from /ws/supervise/ and ticks the
// waits locally between snapshots. Text is set with textContent only, never as HTML.
import { Connection } from "../chat/socket.js";

const root = document.querySelector(".live");
const consoleUrl = root.dataset.consoleUrl;
const scheme = window.location.protocol === "https:" ? "wss" : "ws";
const connection = new Connection(`${scheme}://${window.location.host}${root.dataset.socketPath}`);

const ui = {
  conn: document.getElementById("live-conn"),
  updated: document.getElementById("live-updated"),
  topics: document.getElementById("live-topics"),
  agents: document.getElementById("live-agents"),
  red: document.getElementById("live-red"),
  redEmpty: document.getElementById("live-red-empty"),
  counters: document.querySelectorAll("[data-counter]"),
};

const CONN_LABELS = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  stopped: "Disconnected",
};
const STATUS_LABELS = { online: "Online", away: "Away", offline: "Offline" };

// Waits shown on the page, each ticking from the snapshot that gave it.
let ticking = [];
let receivedAt = 0;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function duration(seconds) {
  if (seconds == null) return "–";
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function level(seconds, amber, red) {
  if (seconds == null) return "none";
  if (seconds > red) return "red";
  if (seconds > amber) return "amber";
  return "green";
}

function elapsed() {
  return (performance.now() - receivedAt) / 1000;
}

function tick() {
  const extra = elapsed();
  for (const { node, seconds, amber, red } of ticking) {
    const now = seconds == null ? null : seconds + extra;
    node.textContent = duration(now);
    if (amber != null) node.dataset.level = level(now, amber, red);
  }
}

function renderTopics(topics) {
  ui.topics.replaceChildren(
    ...topics.map((topic) => {
      const wait = el("td", { class: "live__wait" });
      ticking.push({
        node: wait,
        seconds: topic.longest_wait_seconds,
        amber: topic.amber_after,
        red: topic.red_after,
      });
      return el(
        "tr",
        { dataset: { topic: String(topic.id) } },
        el("th", { scope: "row", text: topic.name }),
        el("td", { class: "live__count", dataset: { queued: "" }, text: String(topic.queued) }),
        wait,
        el("td", { text: String(topic.agents_online) }),
      );
    }),
  );
}

function renderAgents(agents) {
  ui.agents.replaceChildren(
    ...agents.map((agent) => {
      const status = STATUS_LABELS[agent.status] || agent.status;
      const presence = agent.present ? "console open" : "no console open";
      const skills = agent.topics.length ? agent.topics.map((t) => t.name).join(", ") : "all topics";
      const share = agent.max_chats ? Math.min(1, agent.open_chats / agent.max_chats) : 0;
      const bar = el(
        "span",
        {
          class: "live__load",
          role: "meter",
          "aria-label": `Load of ${agent.name}`,
          "aria-valuemin": "0",
          "aria-valuemax": String(agent.max_chats),
          "aria-valuenow": String(agent.open_chats),
          dataset: { full: String(agent.open_chats >= agent.max_chats) },
        },
        el("span"),
      );
      bar.firstChild.style.width = `${Math.round(share * 100)}%`;
      return el(
        "li",
        { class: "live__agent", dataset: { agent: String(agent.id) } },
        el("span", {
          class: "live__dot",
          title: `${status}, ${presence}`,
          dataset: { status: agent.status, present: String(agent.present) },
        }),
        el("span", { class: "live__name", text: `${agent.name} · ${status}` }),
        el("span", { class: "live__chats", text: `${agent.open_chats}/${agent.max_chats}` }),
        bar,
        el("span", { class: "live__meta", text: `${presence} · ${skills}` }),
      );
    }),
  );
}

function renderRed(chats) {
  ui.redEmpty.hidden = chats.length > 0;
  ui.red.replaceChildren(
    ...chats.map((chat) => {
      const waited = el("span", { class: "live__wait", dataset: { level: "red" } });
      ticking.push({ node: waited, seconds: chat.waited_seconds, amber: null, red: null });
      const who = chat.agent ? `with ${chat.agent.name}` : "in the queue";
      return el(
        "li",
        { class: "live__red", dataset: { chat: String(chat.id) } },
        el("strong", { text: chat.customer }),
        ` · ${chat.topic.name}, ${who} · waiting `,
        waited,
        " · ",
        el("a", {
          href: `${consoleUrl}#watch=${chat.id}`,
          text: "Open in console",
          "aria-label": `Open ${chat.customer}'s chat in the console`,
        }),
      );
    }),
  );
}

function renderToday(today) {
  for (const node of ui.counters) {
    const value = today[node.dataset.counter];
    node.textContent =
      node.dataset.counter === "average_first_response_seconds"
        ? duration(value)
        : String(value ?? "–");
  }
}

function onSnapshot(frame) {
  receivedAt = performance.now();
  ticking = [];
  renderTopics(frame.topics);
  renderAgents(frame.agents);
  renderRed(frame.red_chats);
  renderToday(frame.today);
  ui.updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  tick();
}

connection.addEventListener("state", (event) => {
  const { state, reason } = event.detail;
  ui.conn.dataset.state = state;
  ui.conn.textContent = state === "stopped" && reason ? reason : CONN_LABELS[state] || state;
});
connection.addEventListener("frame", (event) => {
  if (event.detail.type === "live") onSnapshot(event.detail);
});
setInterval(tick, 1000);
connection.start();
