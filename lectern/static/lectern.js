// Lectern's page runtime: JSON API calls with the CSRF header, the live event stream, and small
// DOM builders. Every page renders from the API and re-renders in place when an event arrives.
"use strict";

/**
 * A child that `h` and `replace` accept: nodes, text, and nested lists of them; null, undefined
 * and false are left out.
 * @typedef {Node | string | number | boolean | null | undefined | Child[]} Child
 */
/**
 * An event from the live stream.
 * @typedef {{ id?: number, type?: string, payload?: any }} LiveEvent
 */

// biome-ignore lint/correctness/noUnusedVariables: the page scripts loaded after this one use it.
const Lectern = (() => {
  /** @param {string} name */
  function cookie(name) {
    const found = document.cookie.split("; ").find((part) => part.startsWith(`${name}=`));
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  class ApiError extends Error {
    /**
     * @param {number} status
     * @param {any} problem the RFC 9457 problem details, or the response's text
     */
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `Request failed (${status})`);
      this.status = status;
      this.problem = problem;
    }
  }

  /**
   * Calls the JSON API; resolves to the decoded body (null for 204), throws ApiError otherwise.
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @returns {Promise<any>}
   */
  async function api(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (!["GET", "HEAD"].includes(method)) headers["X-CSRF-Token"] = cookie("lectern_csrf");
    const response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && !location.pathname.startsWith("/login")) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
      throw new ApiError(401, null);
    }
    if (response.status === 204) return null;
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  // One EventSource per page; reconnects resume from the last id the page saw.
  /** @type {((event: LiveEvent) => void)[]} */
  const listeners = [];
  /** @type {Set<number>} */
  const seen = new Set();
  /** @type {string | null} */
  let lastEventId = null;
  /** @type {EventSource | null} */
  let source = null;

  /** @param {boolean} on */
  function setLive(on) {
    const dot = document.getElementById("live-dot");
    if (!dot) return;
    dot.classList.add("streaming");
    dot.classList.toggle("on", on);
    dot.title = on ? "Live updates on" : "Reconnecting…";
  }

  /** @param {MessageEvent} message */
  function dispatch(message) {
    /** @type {LiveEvent} */
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (message.lastEventId) lastEventId = message.lastEventId;
    if (event.id !== undefined) {
      // Ids can arrive out of order (a late commit), so remember recent ones, not the highest.
      if (seen.has(event.id)) return;
      seen.add(event.id);
      if (seen.size > 2000) seen.delete(/** @type {number} */ (seen.values().next().value));
    }
    announceEvent(event);
    for (const listener of listeners) listener(event);
  }

  // What a screen-reader user hears about other people's changes; the page updates silently.
  /** @param {LiveEvent} event */
  function announceEvent(event) {
    const payload = event.payload || {};
    if (event.type === "notification.created" && payload.title)
      announce(`Notification: ${payload.title}`);
    else if (event.type === "certificate.issued") announce("A certificate was issued.");
    else if (event.type === "request.created" && document.body.dataset.role === "admin")
      announce("New access request.");
  }

  function openStream() {
    const query = lastEventId ? `?last_event_id=${encodeURIComponent(lastEventId)}` : "";
    const stream = new EventSource(`/api/v1/stream${query}`);
    source = stream;
    stream.onopen = () => setLive(true);
    stream.onmessage = dispatch;
    stream.onerror = () => {
      setLive(false);
      // The browser retries by itself unless the server refused; then check the session
      // first (a 401 sends the page to the log-in) and open a new stream.
      if (stream.readyState === EventSource.CLOSED) {
        setTimeout(
          () => api("GET", "/api/v1/me").then(openStream, () => setTimeout(openStream, 5000)),
          1500,
        );
      }
    };
  }

  /**
   * Calls `handler` with each live event whose type starts with one of `prefixes`.
   * @param {string[]} prefixes
   * @param {(event: LiveEvent) => void} handler
   */
  function onEvent(prefixes, handler) {
    listeners.push((event) => {
      if (prefixes.some((prefix) => (event.type || "").startsWith(prefix))) handler(event);
    });
    if (!source) openStream();
  }

  // Runs `render` now and again whenever asked, never twice at once; requests made while it
  // runs collapse into one more run.
  /**
   * @param {() => unknown} render
   * @returns {() => Promise<void>}
   */
  function refresher(render) {
    /** @type {Promise<void> | null} */
    let running = null;
    let again = false;
    const run = async () => {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        do {
          again = false;
          try {
            await render();
          } catch (error) {
            if (!(error instanceof ApiError && error.status === 401)) report(error);
          }
        } while (again);
        running = null;
      })();
      return running;
    };
    return run;
  }

  /**
   * Builds an element: `on…` attributes add listeners, `text` sets the text, `true` is a bare
   * attribute, and null, undefined and false leave an attribute or child out.
   * @template {keyof HTMLElementTagNameMap} K
   * @param {K} tag
   * @param {Record<string, any> | null} [attributes]
   * @param {...Child} children
   * @returns {HTMLElementTagNameMap[K]}
   */
  function h(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of flatten(children)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /**
   * @param {Child[]} children
   * @returns {Exclude<Child, Child[]>[]}
   */
  function flatten(children) {
    // Cast before flat(): TypeScript cannot compute flat()'s type over a recursive type.
    return /** @type {any[]} */ (children).flat(Infinity);
  }

  /**
   * @param {unknown} value a percentage
   * @param {string} [label]
   */
  function progressBar(value, label) {
    const pct = Math.max(0, Math.min(100, Math.round(Number(value) || 0)));
    return h(
      "div",
      { class: "stack" },
      h(
        "div",
        {
          class: "progress",
          role: "progressbar",
          "aria-valuemin": "0",
          "aria-valuemax": "100",
          "aria-valuenow": String(pct),
          "aria-label": label || "Progress",
        },
        h("span", { style: `width:${pct}%` }),
      ),
      h("div", { class: "progress-label" }, `${pct}% complete`),
    );
  }

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let toastTimer;

  /** @param {string} text */
  function announce(text) {
    const region = document.getElementById("announcer");
    if (region) region.textContent = text;
    const toast = document.getElementById("toast");
    if (toast) {
      toast.textContent = text;
      clearTimeout(toastTimer);
      toastTimer = setTimeout(() => {
        toast.textContent = "";
      }, 4000);
    }
  }

  // -- field-level messages -----------------------------------------------------------------
  // A 422 problem lists its errors with `loc` (["body", "questions", "0", "answer"]) and a plain
  // `msg`; each is shown next to the control whose name or data-field is the longest match of
  // that path ("questions.0.answer", then "questions.0", then "questions"), and what matches no
  // control goes in a message at the end of the form.

  /** @type {HTMLFormElement | null} */
  let lastSubmitted = null;

  /** @param {HTMLFormElement} form */
  function clearFieldErrors(form) {
    for (const note of form.querySelectorAll(".field-error, .form-error")) note.remove();
    for (const control of form.querySelectorAll("[aria-invalid]")) {
      control.removeAttribute("aria-invalid");
      const described = (control.getAttribute("aria-describedby") || "")
        .split(" ")
        .filter((id) => id && !id.endsWith("-problem"));
      if (described.length) control.setAttribute("aria-describedby", described.join(" "));
      else control.removeAttribute("aria-describedby");
    }
  }

  /**
   * @param {HTMLFormElement} form
   * @param {string[]} path
   * @returns {HTMLElement | null}
   */
  function controlFor(form, path) {
    for (let n = path.length; n > 0; n--) {
      const name = CSS.escape(path.slice(0, n).join("."));
      const control = form.querySelector(`[name="${name}"], [data-field="${name}"]`);
      if (control instanceof HTMLElement) return control;
    }
    return null;
  }

  let problemIds = 0;

  /**
   * Shows a 422 problem's messages next to the form's fields; false if it has none.
   * @param {HTMLFormElement} form
   * @param {any} error an ApiError
   */
  function fieldErrors(form, error) {
    clearFieldErrors(form);
    const errors = error?.problem?.errors || [];
    if (!errors.length) return false;
    /** @type {string[]} */
    const unplaced = [];
    let first = null;
    for (const { loc, msg } of errors) {
      const path = (loc || []).slice(["body", "query", "path"].includes(loc[0]) ? 1 : 0);
      const control = controlFor(form, path.map(String));
      if (!control) {
        unplaced.push(msg);
        continue;
      }
      const id = `field-${++problemIds}-problem`;
      const note = h("p", { class: "field-error", id }, msg);
      const label = control.closest("label");
      (label || control).after(note);
      control.setAttribute("aria-invalid", "true");
      const described = control.getAttribute("aria-describedby");
      control.setAttribute("aria-describedby", described ? `${described} ${id}` : id);
      first = first || control;
    }
    if (unplaced.length)
      form.append(h("p", { class: "error form-error", role: "alert" }, unplaced.join(" ")));
    if (first) first.focus();
    announce(errors.length === 1 ? errors[0].msg : "Some fields need another look.");
    return true;
  }

  document.addEventListener(
    "submit",
    (event) => {
      if (!(event.target instanceof HTMLFormElement)) return;
      lastSubmitted = event.target;
      clearFieldErrors(event.target);
    },
    true,
  );

  // A plain button's action is not the form's: its failure is announced, not placed in a form.
  document.addEventListener(
    "click",
    (event) => {
      const button = event.target instanceof Element ? event.target.closest("button") : null;
      if (button && button.type !== "submit") lastSubmitted = null;
    },
    true,
  );

  // A failed request from a form just submitted shows its field messages there; any other
  // failure is announced.
  /** @param {any} error */
  function report(error) {
    if (lastSubmitted?.isConnected && fieldErrors(lastSubmitted, error)) return;
    announce(error.message || String(error));
  }

  // -- asking first ----------------------------------------------------------------------------
  /**
   * Asks before a destructive action in a modal dialog; resolves true if the person confirms.
   * Cancel has the focus, and Escape cancels.
   * @param {string} question
   * @param {string} action the confirming button's label, e.g. "Delete lesson"
   * @returns {Promise<boolean>}
   */
  function confirmAction(question, action) {
    return new Promise((resolve) => {
      const id = `confirm-${++problemIds}`;
      const dialog = h(
        "dialog",
        { class: "confirm", "aria-labelledby": id },
        h("p", { id }, question),
        h(
          "form",
          { method: "dialog", class: "row" },
          h("button", { value: "cancel", class: "secondary", autofocus: true }, "Cancel"),
          h("button", { value: "confirm", class: "danger" }, action),
        ),
      );
      dialog.addEventListener("close", () => {
        dialog.remove();
        resolve(dialog.returnValue === "confirm");
      });
      document.body.append(dialog);
      dialog.showModal();
    });
  }

  /** @param {string | null | undefined} iso */
  function when(iso) {
    return iso ? new Date(iso).toLocaleString() : "";
  }

  /**
   * @param {number} cents
   * @param {string | null | undefined} currency
   */
  function money(cents, currency) {
    try {
      return new Intl.NumberFormat(undefined, {
        style: "currency",
        currency: (currency || "usd").toUpperCase(),
      }).format(cents / 100);
    } catch {
      return `${(cents / 100).toFixed(2)} ${currency}`;
    }
  }

  // Leaves the region alone when nothing changed, and gives focus back to a control that the
  // update moved, so that a live update never takes the caret from someone typing.
  /**
   * @param {string} id
   * @param {...Child} children
   */
  function replace(id, ...children) {
    const node = document.getElementById(id);
    if (!node) return node;
    const next = /** @type {(Node | string | number | true)[]} */ (
      flatten(children).filter((child) => child !== null && child !== undefined && child !== false)
    );
    const current = node.childNodes;
    if (next.length === current.length && next.every((child, i) => child === current[i]))
      return node;
    const focused = document.activeElement;
    node.replaceChildren(...next.map((child) => (child instanceof Node ? child : String(child))));
    if (node instanceof HTMLTableSectionElement) labelCells(node);
    if (focused && focused !== document.activeElement && node.contains(focused))
      /** @type {HTMLElement} */ (focused).focus();
    return node;
  }

  // On a phone a table shows each row as a card (lectern.css); each cell then names its
  // column from the table's head.
  /** @param {HTMLTableSectionElement} body */
  function labelCells(body) {
    const head = body.parentElement?.querySelector("thead tr");
    if (!head) return;
    const names = [...head.children].map((th) => (th.textContent || "").trim());
    for (const row of body.rows) {
      if (row.cells.length !== names.length) continue;
      [...row.cells].forEach((cell, i) => {
        if (names[i]) cell.dataset.label = names[i];
      });
    }
  }

  function page() {
    return document.body.dataset;
  }

  async function logout() {
    try {
      await api("POST", "/api/v1/auth/logout");
    } finally {
      location.assign("/login");
    }
  }

  // The navigation's live counts: pending requests for admins, unread notifications for students.
  const COUNTS = {
    requests: {
      path: "/api/v1/admin/access-requests?status=pending&limit=1000",
      events: ["request."],
    },
    notifications: {
      path: "/api/v1/me/notifications?unread=true&limit=500",
      events: ["notification."],
    },
  };
  /** @type {Record<string, () => Promise<void>>} */
  const counters = {};

  /**
   * @param {string} key
   * @param {number} n
   */
  function showCount(key, n) {
    const badge = /** @type {HTMLElement} */ (document.getElementById(`count-${key}`));
    /** @type {HTMLElement} */ (badge.querySelector(".n")).textContent = String(n);
    badge.hidden = n === 0;
  }

  function refreshCounts() {
    for (const run of Object.values(counters)) run();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("logout");
    if (button) button.addEventListener("click", logout);
    for (const [key, count] of Object.entries(COUNTS)) {
      if (!document.getElementById(`count-${key}`)) continue;
      counters[key] = refresher(async () => showCount(key, (await api("GET", count.path)).length));
      onEvent(count.events, () => counters[key]());
      counters[key]();
    }
  });

  return {
    api,
    ApiError,
    onEvent,
    refresher,
    refreshCounts,
    h,
    progressBar,
    announce,
    report,
    fieldErrors,
    confirmAction,
    when,
    money,
    replace,
    page,
    cookie,
  };
})();
