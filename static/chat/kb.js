/**
 * The knowledge base in the console (docs/knowledge-base.md): a "Knowledge base" button on
 * each pane the agent may write in opens a panel above the composer with a search box. Typing
 * searches published articles (at least 2 characters, 250 ms after the last key; Enter
 * searches at once), ranked for the chat's topic. Each result offers "Insert link" ("<title>:
 * <url>") and "Insert excerpt", put at the cursor of that pane's reply box as text: the agent
 * still reads and sends the reply.
 *
 * Titles, excerpts and URLs come from the network: they go into the page as text and into the
 * reply box as its value, never as HTML.
 *
 * Hooks the console calls: decorate(chat, pane) when a pane is built, update(chat) when it is
 * refreshed.
 */
import { h } from "./ui.js";

const SEARCH_URL = "/api/v1/console/kb/articles/";
const MIN_CHARS = 2;
const DEBOUNCE_MS = 250;
// The API refuses longer searches (400): never send one.
const QUERY_MAX = 200;

const ERROR_TEXT = {
  403: "Only agents can search the knowledge base. Log in again?",
  429: "Too many searches at once: wait a moment and try again.",
};

function safeHttpUrl(raw) {
  try {
    const url = new URL(raw, window.location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

export function createKnowledgeBase({ canWrite, maxLength }) {
  /** chat id -> {chat, pane, open, toggle, panel, input, status, list, timer, controller,
   * lastQuery} */
  const states = new Map();

  function decorate(chat, pane) {
    const id = chat.id;
    const panelId = `kb-panel-${id}`;
    const inputId = `kb-q-${id}`;
    const state = { chat, pane, open: false, timer: null, controller: null, lastQuery: "" };
    state.toggle = h("button", {
      type: "button",
      className: "btn btn-outline-primary btn-sm pane__kb-btn",
      text: "Knowledge base",
      "aria-expanded": "false",
      "aria-controls": panelId,
      onclick: () => setOpen(state, !state.open),
    });
    pane.closeBtn.before(state.toggle);

    state.input = h("input", {
      type: "search",
      id: inputId,
      className: "form-control form-control-sm kb-panel__input",
      maxlength: String(QUERY_MAX),
      autocomplete: "off",
      spellcheck: "false",
      placeholder: "e.g. refund, delivery time",
      "aria-describedby": `kb-status-${id}`,
    });
    state.status = h("p", {
      className: "kb-panel__status",
      id: `kb-status-${id}`,
      role: "status",
      text: `Type at least ${MIN_CHARS} characters.`,
    });
    state.list = h("ul", { className: "kb-panel__results", "aria-label": "Articles found" });
    const form = h(
      "form",
      { className: "kb-panel__form", role: "search" },
      h("label", { className: "kb-panel__label", for: inputId, text: "Search the knowledge base" }),
      h(
        "div",
        { className: "kb-panel__row" },
        state.input,
        h("button", { type: "submit", className: "btn btn-primary btn-sm", text: "Search" }),
      ),
    );
    state.panel = h(
      "section",
      { className: "kb-panel", id: panelId, "aria-label": "Knowledge base", hidden: true },
      h(
        "div",
        { className: "kb-panel__head" },
        h("h3", { className: "kb-panel__title", text: "Knowledge base" }),
        h("button", {
          type: "button",
          className: "btn-close kb-panel__close",
          "aria-label": "Close the knowledge base",
          onclick: () => setOpen(state, false, { focusToggle: true }),
        }),
      ),
      form,
      state.status,
      state.list,
    );
    pane.composer.before(state.panel);

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      search(state, { now: true });
    });
    state.input.addEventListener("input", () => search(state, { now: false }));
    state.panel.addEventListener("keydown", (event) => onPanelKey(state, event));
    states.set(id, state);
  }

  function update(chat) {
    const state = states.get(chat.id);
    if (!state) return;
    const writable = canWrite(chat);
    state.toggle.hidden = !writable;
    if (!writable && state.open) setOpen(state, false);
  }

  function setOpen(state, open, { focusToggle = false } = {}) {
    state.open = open;
    state.panel.hidden = !open;
    state.toggle.setAttribute("aria-expanded", String(open));
    if (open) {
      state.input.focus();
      state.input.select();
    } else {
      clearTimeout(state.timer);
      if (state.controller) state.controller.abort();
      if (focusToggle) state.toggle.focus();
    }
  }

  function onPanelKey(state, event) {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(state, false, { focusToggle: true });
    } else if (event.key === "ArrowDown" && event.target === state.input) {
      // From the search box straight to the first result's first button.
      const first = state.list.querySelector("button");
      if (first) {
        event.preventDefault();
        first.focus();
      }
    }
  }

  function setStatus(state, text, tone = "info") {
    state.status.textContent = text;
    state.status.dataset.tone = tone;
  }

  function search(state, { now }) {
    clearTimeout(state.timer);
    const query = state.input.value.trim().slice(0, QUERY_MAX);
    if (query.length < MIN_CHARS) {
      if (state.controller) state.controller.abort();
      state.lastQuery = "";
      state.list.replaceChildren();
      setStatus(state, `Type at least ${MIN_CHARS} characters.`);
      return;
    }
    if (now) run(state, query);
    else state.timer = setTimeout(() => run(state, query), DEBOUNCE_MS);
  }

  async function run(state, query) {
    // Only the latest search may show its results: an earlier one still on its way is dropped.
    if (state.controller) state.controller.abort();
    const controller = new AbortController();
    state.controller = controller;
    const params = new URLSearchParams({ q: query });
    const topic = state.chat.frame?.topic?.slug;
    if (typeof topic === "string" && topic) params.set("topic", topic);
    setStatus(state, "Searching…");
    state.panel.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(`${SEARCH_URL}?${params}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
      const body = await response.json().catch(() => null);
      if (controller !== state.controller) return;
      if (!response.ok) {
        const detail = body && typeof body.detail === "string" ? body.detail : "";
        const field = body?.errors?.q?.[0];
        setStatus(
          state,
          ERROR_TEXT[response.status] || field || detail || "The search failed.",
          "error",
        );
        return;
      }
      state.lastQuery = query;
      render(state, Array.isArray(body) ? body : [], query);
    } catch (error) {
      if (error.name === "AbortError") return;
      if (controller === state.controller) {
        setStatus(state, "The search failed: check your connection.", "error");
      }
    } finally {
      if (controller === state.controller) {
        state.panel.removeAttribute("aria-busy");
        state.controller = null;
      }
    }
  }

  function render(state, articles, query) {
    const rows = articles.filter(
      (article) =>
        article && typeof article.title === "string" && safeHttpUrl(article.url) !== null,
    );
    state.list.replaceChildren(...rows.map((article) => resultItem(state, article)));
    if (!rows.length) setStatus(state, `No article matches “${query}”.`);
    else setStatus(state, `${rows.length} article${rows.length === 1 ? "" : "s"} found.`);
  }

  function resultItem(state, article) {
    const url = safeHttpUrl(article.url);
    const excerpt = typeof article.excerpt === "string" ? article.excerpt : "";
    const topic = article.topic && typeof article.topic.name === "string" ? article.topic : null;
    return h(
      "li",
      { className: "kb-result", dataset: { articleId: article.id } },
      h(
        "div",
        { className: "kb-result__head" },
        h("a", {
          className: "kb-result__title",
          href: url,
          target: "_blank",
          rel: "noopener noreferrer",
          text: article.title,
        }),
        topic ? h("span", { className: "kb-result__topic", text: topic.name }) : null,
      ),
      excerpt ? h("p", { className: "kb-result__excerpt", text: excerpt }) : null,
      h(
        "div",
        { className: "kb-result__actions" },
        h("button", {
          type: "button",
          className: "btn btn-outline-primary btn-sm",
          text: "Insert link",
          "aria-label": `Insert link to ${article.title}`,
          onclick: () => insert(state, `${article.title}: ${url}`, "link"),
        }),
        excerpt
          ? h("button", {
              type: "button",
              className: "btn btn-outline-secondary btn-sm",
              text: "Insert excerpt",
              "aria-label": `Insert excerpt of ${article.title}`,
              onclick: () => insert(state, excerpt, "excerpt"),
            })
          : null,
      ),
    );
  }

  /** Put `text` at the cursor (replacing a selection) of the pane's reply box, as its value. */
  function insert(state, text, what) {
    const box = state.pane.input;
    if (box.disabled || !canWrite(state.chat)) return;
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? start;
    const before = box.value.slice(0, start);
    const after = box.value.slice(end);
    // Keep words apart: a space on each side unless there is one already.
    const piece =
      (before && !/\s$/.test(before) ? " " : "") + text + (after && !/^\s/.test(after) ? " " : "");
    if (before.length + piece.length + after.length > maxLength) {
      setStatus(state, `That would make the reply longer than ${maxLength} characters.`, "error");
      return;
    }
    box.setRangeText(piece, start, end, "end");
    // The console's own listener counts the characters, keeps the draft and says "typing".
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
    setStatus(state, what === "link" ? "Link inserted in the reply." : "Excerpt inserted.");
  }

  return { decorate, update };
}
