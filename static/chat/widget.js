/*
 * The chat widget: one tag on any website adds a "Chat with us" launcher, bottom right.
 *
 *   <script src="https://HELPDESK/static/chat/widget.js" defer></script>
 *
 * The launcher opens a panel holding an iframe of HELPDESK/chat/?embed=1; the helpdesk origin
 * is taken from this script's own src. Everything it creates is styled inline (with
 * !important), so the host page's CSS cannot reach in, and the chat itself lives in the iframe.
 * The iframe is created on first open and kept, so the conversation stays connected.
 * Proactive invitations (docs/invitations.md): after the time a rule sets, the server may offer
 * an invitation; accepted, the chat opens on the rule's topic.
 */
(function () {
  "use strict";

  if (window.__helpdeskWidgetLoaded) return;
  window.__helpdeskWidgetLoaded = true;

  var script =
    document.currentScript ||
    Array.prototype.slice.call(document.scripts).filter(function (s) {
      return /\/static\/chat\/widget(\.[\w]+)?\.js(\?|$)/.test(s.src);
    })[0];
  if (!script) return;
  var ORIGIN = new URL(script.src, window.location.href).origin;
  var CHAT_URL = ORIGIN + "/chat/?embed=1";
  var INVITATIONS_URL = ORIGIN + "/api/v1/public/invitations/";
  var BRAND = "#2b4fc7";
  var BRAND_DARK = "#1f3a99";
  var FOCUS_RING = "0 0 0 3px #ffffff, 0 0 0 6px " + BRAND_DARK;
  var Z = "2147483000";
  var mobile = window.matchMedia("(max-width: 520px)");
  var SVG = "http://www.w3.org/2000/svg";

  /**
   * A site that knows its logged-in customer says so on the tag (docs/widget-identity.md):
   *   data-customer-id="42" data-customer-hash="<hex HMAC-SHA256 made on the site's server>"
   *   data-customer-name="Ana Lima" data-customer-email="ana@example.com" (both optional)
   * They travel to the chat page in the address fragment, which is never sent to a server.
   */
  function identityFromTag(tag) {
    var data = tag.dataset || {};
    if (!data.customerId || !data.customerHash) return null;
    return {
      id: String(data.customerId),
      hash: String(data.customerHash),
      name: String(data.customerName || ""),
      email: String(data.customerEmail || ""),
    };
  }

  function identityFragment(tag) {
    var identity = identityFromTag(tag);
    return identity ? "#identity=" + encodeURIComponent(JSON.stringify(identity)) : "";
  }

  function style(el, rules) {
    for (var name in rules) {
      if (Object.prototype.hasOwnProperty.call(rules, name)) {
        el.style.setProperty(name, rules[name], "important");
      }
    }
  }

  function reset(el) {
    el.style.setProperty("all", "initial", "important");
  }

  function icon(pathData, size) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", size);
    svg.setAttribute("height", size);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", pathData);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    style(svg, { display: "block", flex: "none" });
    return svg;
  }

  /** A visible focus ring for keyboard users (inline styles cannot say :focus-visible). */
  function focusRing(el, extra) {
    el.addEventListener("focus", function () {
      var keyboard = true;
      try {
        keyboard = el.matches(":focus-visible");
      } catch (e) {
        /* old browser: always show */
      }
      if (keyboard) style(el, { "box-shadow": FOCUS_RING + (extra ? ", " + extra : "") });
    });
    el.addEventListener("blur", function () {
      style(el, { "box-shadow": extra || "none" });
    });
  }

  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  var CHAT_ICON =
    "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-4.3 3.4A.5.5 0 0 1 4 21v-3a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2Z";
  var CLOSE_ICON =
    "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4Z";
  var LAUNCHER_SHADOW = "0 8px 24px rgba(16, 24, 40, 0.28)";

  // --- Launcher -------------------------------------------------------------------------------
  var launcher = document.createElement("button");
  reset(launcher);
  launcher.type = "button";
  launcher.id = "helpdesk-widget-launcher";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "helpdesk-widget-panel");
  style(launcher, {
    position: "fixed",
    right: "20px",
    bottom: "20px",
    "z-index": Z,
    display: "inline-flex",
    "align-items": "center",
    gap: "10px",
    padding: "0 22px 0 18px",
    height: "54px",
    "border-radius": "27px",
    background: BRAND,
    color: "#ffffff",
    "font-family": FONT,
    "font-size": "16px",
    "font-weight": "600",
    "line-height": "1",
    cursor: "pointer",
    "box-shadow": LAUNCHER_SHADOW,
    "box-sizing": "border-box",
    transition: "background-color 0.15s ease, transform 0.15s ease",
  });
  var launcherIcon = icon(CHAT_ICON, 22);
  var launcherLabel = document.createElement("span");
  reset(launcherLabel);
  style(launcherLabel, { color: "inherit", font: "inherit", "white-space": "nowrap" });
  launcherLabel.textContent = "Chat with us";
  var badge = document.createElement("span");
  reset(badge);
  badge.setAttribute("aria-hidden", "true");
  style(badge, {
    display: "none",
    position: "absolute",
    top: "-4px",
    right: "-4px",
    "min-width": "22px",
    height: "22px",
    padding: "0 6px",
    "box-sizing": "border-box",
    "border-radius": "11px",
    background: "#c0182c",
    color: "#ffffff",
    border: "2px solid #ffffff",
    "font-family": FONT,
    "font-size": "12px",
    "font-weight": "700",
    "line-height": "18px",
    "text-align": "center",
  });
  launcher.appendChild(launcherIcon);
  launcher.appendChild(launcherLabel);
  launcher.appendChild(badge);
  launcher.addEventListener("mouseenter", function () {
    style(launcher, { background: BRAND_DARK });
  });
  launcher.addEventListener("mouseleave", function () {
    style(launcher, { background: BRAND });
  });
  focusRing(launcher, LAUNCHER_SHADOW);

  // --- Panel ----------------------------------------------------------------------------------
  var panel = document.createElement("div");
  reset(panel);
  panel.id = "helpdesk-widget-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", "Chat with us");
  style(panel, {
    position: "fixed",
    "z-index": Z,
    display: "none",
    background: "#ffffff",
    overflow: "hidden",
    "box-sizing": "border-box",
  });

  var closeButton = document.createElement("button");
  reset(closeButton);
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", "Close chat window");
  closeButton.title = "Close (Esc)";
  style(closeButton, {
    position: "absolute",
    top: "14px",
    right: "12px",
    width: "36px",
    height: "36px",
    display: "grid",
    "place-items": "center",
    "border-radius": "50%",
    background: "rgba(255, 255, 255, 0.16)",
    color: "#ffffff",
    cursor: "pointer",
    "z-index": "1",
  });
  closeButton.appendChild(icon(CLOSE_ICON, 20));
  focusRing(closeButton);
  panel.appendChild(closeButton);

  var iframe = null;
  var unread = 0;

  function layout() {
    if (mobile.matches) {
      style(panel, {
        inset: "0",
        top: "0",
        right: "0",
        bottom: "0",
        left: "0",
        width: "100%",
        height: "100%",
        "border-radius": "0",
        "box-shadow": "none",
      });
    } else {
      style(panel, {
        inset: "auto",
        top: "auto",
        left: "auto",
        right: "20px",
        bottom: "88px",
        width: "384px",
        height: "min(640px, calc(100vh - 116px))",
        "border-radius": "16px",
        "box-shadow": "0 20px 60px rgba(16, 24, 40, 0.3)",
      });
    }
    var open = isOpen();
    style(launcher, { display: open && mobile.matches ? "none" : "inline-flex" });
  }

  function isOpen() {
    return launcher.getAttribute("aria-expanded") === "true";
  }

  function setBadge(count) {
    unread = count;
    badge.textContent = count > 9 ? "9+" : String(count);
    style(badge, { display: count ? "inline-block" : "none" });
    if (count) launcher.setAttribute("aria-label", "Chat with us, " + count + " new");
    else launcher.removeAttribute("aria-label");
  }

  function focusChat() {
    if (!iframe) return;
    iframe.focus();
    iframe.contentWindow.postMessage({ source: "helpdesk-widget", type: "focus" }, ORIGIN);
  }

  /** The chat page's address: `topic` (an accepted invitation's) preselects the form's topic;
   * the identity rides in the fragment, after the query. */
  function chatUrl(topic) {
    var query = topic ? "&topic=" + encodeURIComponent(topic) : "";
    return CHAT_URL + query + identityFragment(script);
  }

  function open(topic) {
    hideInvitation();
    if (!iframe) {
      iframe = document.createElement("iframe");
      reset(iframe);
      iframe.id = "helpdesk-widget-frame";
      iframe.title = "Customer support chat";
      iframe.src = chatUrl(topic);
      iframe.setAttribute("allow", "clipboard-write");
      style(iframe, { display: "block", width: "100%", height: "100%", border: "0" });
      iframe.addEventListener("load", function () {
        if (isOpen()) focusChat();
      });
      panel.appendChild(iframe);
    } else {
      if (topic) {
        var pick = { source: "helpdesk-widget", type: "topic", topic: topic };
        iframe.contentWindow.postMessage(pick, ORIGIN);
      }
      focusChat();
    }
    launcher.setAttribute("aria-expanded", "true");
    launcherLabel.textContent = "Close chat";
    launcher.replaceChild(icon(CLOSE_ICON, 22), launcher.firstChild);
    style(panel, { display: "block" });
    setBadge(0);
    layout();
  }

  function close() {
    var hadFocus = panel.contains(document.activeElement);
    launcher.setAttribute("aria-expanded", "false");
    launcherLabel.textContent = "Chat with us";
    launcher.replaceChild(icon(CHAT_ICON, 22), launcher.firstChild);
    style(panel, { display: "none" });
    layout();
    if (hadFocus || document.activeElement === document.body) launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (isOpen()) close();
    else open();
  });
  closeButton.addEventListener("click", close);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (isOpen()) close();
    else if (invitation) dismissInvitation();
  });
  window.addEventListener("message", function (event) {
    if (!iframe || event.source !== iframe.contentWindow || event.origin !== ORIGIN) return;
    var data = event.data || {};
    if (data.source !== "helpdesk-chat") return;
    if (data.type === "close") close();
    else if (data.type === "message" && !isOpen()) setBadge(unread + 1);
    else if (data.type === "conversation") rememberConversation(true);
    else if (data.type === "no_conversation") rememberConversation(false);
  });
  if (mobile.addEventListener) mobile.addEventListener("change", layout);

  // --- Proactive invitation (docs/invitations.md) ---------------------------------------------
  // Only what the rules need is kept, in this site's own storage and nothing personal: pages
  // seen in this visit (sessionStorage), a flag that this browser came before, when it was
  // last shown an invitation, and when the chat page last said a conversation is stored.
  // The server sets no cookie. Without storage there is no invitation at all: the cap could
  // not be kept.
  var KEY_VISIT = "helpdesk.widget.visit";
  var KEY_SEEN = "helpdesk.widget.seen";
  var KEY_INVITED = "helpdesk.widget.invitedAt";
  var KEY_CHAT = "helpdesk.widget.chatAt";
  // A stored conversation holds invitations back for a day at most (the chat page refreshes
  // it every time it opens one), so a chat abandoned elsewhere does not silence them forever.
  var CHAT_HOLD_MS = 24 * 3600 * 1000;
  var MAX_CHECKS = 6; // per page view: the server's "ask again" is followed a few times only
  var SLUG = /^[-a-zA-Z0-9_]{1,80}$/;
  var pageStartedAt = Date.now();
  var checks = 0;
  var invitation = null; // the one on screen: {rule, offer, topic}

  function storage(name) {
    try {
      var store = window[name];
      store.setItem("helpdesk.widget.probe", "1");
      store.removeItem("helpdesk.widget.probe");
      return store;
    } catch (e) {
      return null; // blocked (privacy settings) or full
    }
  }
  var local = storage("localStorage");
  var session = storage("sessionStorage");

  function save(store, key, value) {
    try {
      if (value === null) store.removeItem(key);
      else store.setItem(key, value);
    } catch (e) {
      /* full: the invitation simply forgets */
    }
  }

  /** Counts this page in the visit; a visit's first page decides "returning" for all of it. */
  function visitNow() {
    var visit = null;
    try {
      visit = JSON.parse(session.getItem(KEY_VISIT));
    } catch (e) {
      visit = null;
    }
    if (!visit || typeof visit.pages !== "number" || typeof visit.returning !== "boolean") {
      visit = { pages: 0, returning: local.getItem(KEY_SEEN) === "1" };
      save(local, KEY_SEEN, "1");
    }
    visit.pages = Math.min(Math.max(Math.floor(visit.pages), 0) + 1, 100000);
    save(session, KEY_VISIT, JSON.stringify(visit));
    return visit;
  }

  function rememberConversation(stored) {
    if (local) save(local, KEY_CHAT, stored ? String(Date.now()) : null);
    if (stored) hideInvitation();
  }

  function conversationStored() {
    var at = Number(local.getItem(KEY_CHAT));
    return at > 0 && Date.now() - at < CHAT_HOLD_MS;
  }

  function secondsSinceInvited() {
    var at = Number(local.getItem(KEY_INVITED));
    if (!(at > 0)) return null;
    // A clock set back reads as "just now": the cap errs on the quiet side.
    return Math.max(Math.floor((Date.now() - at) / 1000), 0);
  }

  function mayInvite() {
    return !iframe && !isOpen() && !invitation && !conversationStored();
  }

  function post(path, body) {
    return window
      .fetch(INVITATIONS_URL + path, {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .catch(function () {
        return null; // offline, throttled, blocked: no invitation, nothing else changes
      });
  }

  function checkInvitation(visit) {
    if (!mayInvite() || checks >= MAX_CHECKS) return;
    checks += 1;
    post("check/", {
      path: String(window.location.pathname || "/").slice(0, 2000),
      seconds_on_page: Math.floor((Date.now() - pageStartedAt) / 1000),
      pages_in_visit: visit.pages,
      returning: visit.returning,
      seconds_since_last_invitation: secondsSinceInvited(),
    }).then(function (answer) {
      if (!answer) return;
      if (answer.invitation) {
        if (mayInvite()) showInvitation(answer.invitation);
      } else if (typeof answer.check_again_in === "number" && answer.check_again_in > 0) {
        var wait = Math.min(answer.check_again_in, 3600) * 1000;
        setTimeout(function () {
          checkInvitation(visit);
        }, wait);
      }
    });
  }

  var bubble = document.createElement("div");
  reset(bubble);
  bubble.id = "helpdesk-widget-invitation";
  // Non-modal: it never takes the focus from the page; the live region below announces it.
  bubble.setAttribute("role", "dialog");
  bubble.setAttribute("aria-modal", "false");
  bubble.setAttribute("aria-label", "Chat invitation");
  bubble.setAttribute("aria-describedby", "helpdesk-widget-invitation-text");
  style(bubble, {
    position: "fixed",
    right: "20px",
    bottom: "88px",
    "z-index": Z,
    display: "none",
    width: "min(320px, calc(100vw - 40px))",
    padding: "16px",
    "box-sizing": "border-box",
    background: "#ffffff",
    color: "#1d2433",
    border: "1px solid #d0d5dd",
    "border-radius": "14px",
    "box-shadow": "0 12px 32px rgba(16, 24, 40, 0.24)",
    "font-family": FONT,
    "font-size": "15px",
    "line-height": "1.45",
    "text-align": "left",
  });
  var bubbleText = document.createElement("p");
  reset(bubbleText);
  bubbleText.id = "helpdesk-widget-invitation-text";
  style(bubbleText, {
    display: "block",
    margin: "0 0 12px",
    color: "inherit",
    font: "inherit",
    "white-space": "pre-wrap",
    "overflow-wrap": "anywhere",
  });
  bubble.appendChild(bubbleText);

  function invitationButton(label, primary) {
    var button = document.createElement("button");
    reset(button);
    button.type = "button";
    button.textContent = label;
    style(button, {
      display: "inline-block",
      "margin-right": "8px",
      padding: "8px 14px",
      "border-radius": "8px",
      border: primary ? "1px solid " + BRAND : "1px solid #98a2b3",
      background: primary ? BRAND : "#ffffff",
      color: primary ? "#ffffff" : "#1d2433",
      "font-family": FONT,
      "font-size": "14px",
      "font-weight": "600",
      "line-height": "1.2",
      cursor: "pointer",
    });
    focusRing(button);
    bubble.appendChild(button);
    return button;
  }
  var acceptButton = invitationButton("Chat now", true);
  var dismissButton = invitationButton("No thanks", false);

  // Present from the start, so that screen readers announce what is put in it later.
  var announcer = document.createElement("div");
  reset(announcer);
  announcer.setAttribute("role", "status");
  style(announcer, {
    position: "absolute",
    width: "1px",
    height: "1px",
    overflow: "hidden",
    clip: "rect(0 0 0 0)",
    "white-space": "nowrap",
  });

  function showInvitation(given) {
    var topic = given.topic && given.topic.slug;
    if (
      typeof given.rule !== "number" ||
      typeof given.offer !== "string" ||
      typeof given.text !== "string" ||
      typeof topic !== "string" ||
      !SLUG.test(topic)
    ) {
      return;
    }
    invitation = { rule: given.rule, offer: given.offer, topic: topic };
    bubbleText.textContent = given.text; // text, never HTML
    style(bubble, { display: "block" });
    announcer.textContent = "Chat invitation: " + given.text;
    // The cap counts from showing, whatever the answer.
    save(local, KEY_INVITED, String(Date.now()));
    count("shown");
  }

  function count(event) {
    if (invitation) post(invitation.rule + "/" + event + "/", { offer: invitation.offer });
  }

  function hideInvitation() {
    if (!invitation) return;
    var hadFocus = bubble.contains(document.activeElement);
    invitation = null;
    style(bubble, { display: "none" });
    announcer.textContent = "";
    if (hadFocus) launcher.focus();
  }

  function acceptInvitation() {
    var topic = invitation && invitation.topic;
    count("accepted");
    hideInvitation();
    open(topic);
  }

  function dismissInvitation() {
    count("dismissed");
    hideInvitation();
  }

  acceptButton.addEventListener("click", acceptInvitation);
  dismissButton.addEventListener("click", dismissInvitation);

  function startInvitations() {
    if (!local || !session || typeof window.fetch !== "function") return;
    var visit = visitNow();
    if (!conversationStored()) checkInvitation(visit);
  }

  function mount() {
    document.body.appendChild(launcher);
    document.body.appendChild(panel);
    document.body.appendChild(bubble);
    document.body.appendChild(announcer);
    layout();
    startInvitations();
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
