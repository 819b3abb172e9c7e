/**
 * Automated answers (the answer bot, docs/protocol.md "Answer bot") on both sides.
 *
 * A `bot` message carries the articles it offers (`bot.articles`: id, title, url, excerpt).
 * Everything in them was typed by people and comes from the network: titles and excerpts go
 * into the page with textContent, URLs only as the href of a link built here for http(s).
 *
 * - `decorateBotMessage(node, item, {label})`: labels a message node as automated and shows
 *   its articles (the console uses it as the MessageList's `decorate` hook).
 * - `createCustomerBot({...})`: the widget's part: the "Talk to a person" bar while the bot is
 *   active, and "Did this answer your question? Yes / No" under each answer.
 */
import { h } from "./ui.js";

function safeHttpUrl(raw) {
  try {
    const url = new URL(String(raw), window.location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function articlesOf(item) {
  const articles = item && item.bot && Array.isArray(item.bot.articles) ? item.bot.articles : [];
  return articles.filter((a) => a && typeof a.title === "string");
}

/** Label `node` (an li.msg of a bot message) as automated and show its articles as links. */
export function decorateBotMessage(node, item, { label }) {
  if (item.kind !== "bot" || node.dataset.botDecorated) return;
  node.dataset.botDecorated = "1";
  node.classList.add("msg--automated");
  const tag = h("span", { className: "msg__author msg__bot-label", text: label });
  const meta = node.querySelector(".msg__meta");
  if (meta) meta.prepend(tag);
  else node.prepend(h("div", { className: "msg__meta" }, tag));
  const articles = articlesOf(item);
  const body = node.querySelector(".msg__body");
  if (!body || !articles.length) return; // the text body says it all (an older server)
  const list = h("ul", { className: "bot-articles" });
  for (const article of articles) {
    const href = safeHttpUrl(article.url);
    const title = href
      ? h("a", {
          className: "bot-article__title",
          href,
          target: "_blank",
          rel: "noopener noreferrer nofollow",
          text: article.title,
        })
      : h("span", { className: "bot-article__title", text: article.title });
    list.append(
      h(
        "li",
        { className: "bot-article", dataset: { articleId: String(article.id ?? "") } },
        title,
        typeof article.excerpt === "string" && article.excerpt
          ? h("p", { className: "bot-article__excerpt", text: article.excerpt })
          : null,
      ),
    );
  }
  const lead =
    articles.length === 1
      ? "While you wait, this article may answer your question:"
      : "While you wait, these articles may answer your question:";
  body.replaceChildren(h("p", { className: "bot-answer__lead", text: lead }), list);
}

// Errors that answer a pending bot_feedback (an error frame does not name its frame type).
const FEEDBACK_ERRORS = new Set([
  "bot_answer_not_found",
  "feedback_given",
  "not_queued",
  "chat_closed",
  "invalid_frame",
  "rate_limited",
  "internal_error",
]);

/**
 * The widget's bot. `bar` holds the "Talk to a person" button (`humanButton`) and `note` says
 * what happened once the customer asked; `send(type, fields)` sends a frame (false offline);
 * `focusComposer()` moves the focus back to the message box.
 */
export function createCustomerBot({ bar, humanButton, note, send, focusComposer }) {
  const state = {
    frame: null, // the latest `bot` frame
    status: null, // the chat's status
    nodes: new Map(), // seq -> li of a bot answer
    pending: null, // {seq, helpful, close} on its way
    dismissed: new Set(), // seqs whose "end the chat?" the customer declined
    errors: new Map(), // seq -> error text to show under that answer
    justAnswered: null, // seq whose "end the chat?" just appeared: it takes the focus
    askedHuman: false, // a `human` frame is on its way
  };

  function helpfulOf(seq) {
    const answers = state.frame && Array.isArray(state.frame.answers) ? state.frame.answers : [];
    const found = answers.find((a) => a && a.message === seq);
    return found ? found.helpful : null;
  }

  function queued() {
    return state.status === "queued";
  }

  function sendFeedback(seq, helpful, close = false) {
    if (state.pending) return;
    const fields = { message: seq, helpful };
    if (close) fields.close = true;
    state.errors.delete(seq);
    if (!send("bot_feedback", fields)) {
      state.errors.set(seq, "You are offline. Please try again once you are reconnected.");
      renderAnswer(seq);
      return;
    }
    state.pending = { seq, helpful, close };
    renderAnswer(seq);
  }

  function button(text, onclick, extra = {}) {
    return h("button", { type: "button", className: "btn btn-sm", text, onclick, ...extra });
  }

  /** The feedback part under one answer, rebuilt from the state (never from HTML). */
  function renderAnswer(seq) {
    const node = state.nodes.get(seq);
    if (!node) return;
    let box = node.querySelector(".bot-feedback");
    if (!box) {
      box = h("div", { className: "bot-feedback", id: `bot-feedback-${seq}` });
      node.append(box);
    }
    const helpful = helpfulOf(seq);
    const pending = Boolean(state.pending && state.pending.seq === seq);
    // Rebuilding replaces the buttons: the one that had the focus gets it back.
    const focused = box.contains(document.activeElement)
      ? document.activeElement.className.split(" ").find((name) => name.startsWith("bot-"))
      : null;
    box.replaceChildren();
    if (helpful === null && queued()) {
      const question = h("span", {
        className: "bot-feedback__question",
        id: `bot-feedback-q-${seq}`,
        text: "Did this answer your question?",
      });
      const group = h(
        "div",
        { className: "bot-feedback__buttons", role: "group", "aria-labelledby": question.id },
        button("Yes", () => sendFeedback(seq, true), {
          className: "btn btn-sm btn-outline-primary bot-feedback__yes",
          "aria-disabled": pending ? "true" : null,
        }),
        button("No", () => sendFeedback(seq, false), {
          className: "btn btn-sm btn-outline-secondary bot-feedback__no",
          "aria-disabled": pending ? "true" : null,
        }),
      );
      box.append(question, group);
    } else if (helpful === true) {
      box.append(
        h("p", { className: "bot-feedback__done", role: "status", text: "Glad it helped!" }),
      );
      if (queued() && !state.dismissed.has(seq)) {
        const ask = h("span", {
          className: "bot-feedback__question",
          id: `bot-close-q-${seq}`,
          text: "Shall we end the chat? You can start a new one at any time.",
        });
        const end = button("End the chat", () => sendFeedback(seq, true, true), {
          className: "btn btn-sm btn-primary bot-feedback__close",
          "aria-disabled": pending ? "true" : null,
        });
        const keep = button(
          "Keep my place",
          () => {
            state.dismissed.add(seq);
            renderAnswer(seq);
            focusComposer();
          },
          { className: "btn btn-sm btn-link bot-feedback__keep" },
        );
        box.append(
          ask,
          h(
            "div",
            { className: "bot-feedback__buttons", role: "group", "aria-labelledby": ask.id },
            end,
            keep,
          ),
        );
        if (state.justAnswered === seq) end.focus();
      }
    } else if (helpful === false) {
      box.append(
        h("p", {
          className: "bot-feedback__done",
          role: "status",
          text: queued()
            ? "Thanks for telling us. An agent will be with you shortly."
            : "Thanks for telling us.",
        }),
      );
    }
    const error = state.errors.get(seq);
    if (error) box.append(h("p", { className: "bot-feedback__error", role: "alert", text: error }));
    box.hidden = !box.childElementCount;
    if (focused && !box.contains(document.activeElement)) {
      const again = box.querySelector(`.${focused}`);
      if (again) again.focus();
    }
  }

  function renderAll() {
    for (const seq of state.nodes.keys()) renderAnswer(seq);
    const frame = state.frame;
    const active = Boolean(frame && frame.active) && queued();
    bar.hidden = !active;
    const asked = Boolean(frame && frame.human_requested) && queued();
    note.textContent = asked
      ? "You asked for a person: automated answers have stopped, " +
        "and you keep your place in the queue."
      : "";
    note.hidden = !asked;
  }

  humanButton.addEventListener("click", () => {
    if (!send("human", {})) {
      note.textContent = "You are offline. Please try again once you are reconnected.";
      note.hidden = false;
      return;
    }
    humanButton.disabled = true;
    state.askedHuman = true;
  });

  return {
    /** MessageList hook: every new message node; bot answers get their label and buttons. */
    decorate(node, item) {
      if (item.kind !== "bot") return;
      decorateBotMessage(node, item, { label: "Automated answer" });
      if (typeof item.seq === "number") {
        state.nodes.set(item.seq, node);
        renderAnswer(item.seq);
      }
    },
    /** A `bot` frame: replaces what was known. */
    onFrame(frame) {
      const answered = state.pending;
      state.frame = frame;
      if (answered && helpfulOf(answered.seq) === answered.helpful) {
        state.pending = null;
        state.justAnswered = answered.helpful && !answered.close ? answered.seq : null;
        if (!answered.helpful) focusComposer();
      }
      humanButton.disabled = false;
      renderAll();
      state.justAnswered = null;
      if (state.askedHuman && frame.human_requested) {
        // The button went away with the bot: the focus goes back to writing.
        state.askedHuman = false;
        focusComposer();
      }
    },
    /** The chat's status changed (queued, active, closed). */
    onChat(status) {
      state.status = status;
      if (status !== "queued") state.pending = null;
      renderAll();
    },
    /** An error frame; true when it answered our pending feedback. */
    onError(frame) {
      if (!state.pending || !FEEDBACK_ERRORS.has(frame.code)) return false;
      const { seq } = state.pending;
      state.pending = null;
      state.errors.set(seq, frame.detail || "We could not save your answer. Please try again.");
      renderAnswer(seq);
      return true;
    },
    reset() {
      state.nodes.clear();
      state.frame = null;
      state.pending = null;
      state.dismissed.clear();
      state.errors.clear();
      state.status = null;
      state.askedHuman = false;
      renderAll();
    },
  };
}
