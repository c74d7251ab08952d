// On every portal page: the quick exit, history that keeps no portal page, and forms
// that survive a change of language.
//
// Quick exit: the button, or Escape pressed twice, replaces this page with a neutral
// site (location.replace, so the portal's page is not left behind in the history) and
// forgets anything this tab kept. Links between portal pages also replace the page
// instead of adding to the history, so "back" after a quick exit does not lead into the
// portal. (A sent form adds one entry that no script can remove: browsers do not
// allow it. docs/safety.md says so.)
//
// A language switch would reload the page and lose what was typed. Before following
// it (and while a form is being sent), the form's answers (never a file: only the
// hashes the page already made) are kept in this tab's sessionStorage and put back on
// the page in the new language, or when coming back after an error page. A received
// report and the quick exit clear them.

const KEPT = "reclaim-form:";
const ESCAPE_WINDOW_MS = 1500;

function quickExit(target) {
  try {
    sessionStorage.clear();
  } catch {
    // storage may be off; leaving matters more
  }
  window.location.replace(target);
}

const exit = document.querySelector("[data-quick-exit]");
if (exit) {
  exit.addEventListener("click", (event) => {
    event.preventDefault();
    quickExit(exit.href);
  });
  // Not 0: event times count from the page load, so a first Escape within the window
  // of loading would have counted as the second.
  let lastEscape = Number.NEGATIVE_INFINITY;
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const now = event.timeStamp;
    if (now - lastEscape <= ESCAPE_WINDOW_MS) quickExit(exit.href);
    lastEscape = now;
  });
}

// --- keeping the form across a language switch ----------------------------------------

function keptForm() {
  return document.querySelector("form[data-keep-form], form[data-steps]");
}

function saveForm(form) {
  const fields = [];
  for (const element of form.elements) {
    if (!element.name || element.name === "csrf_token" || element.type === "file") continue;
    if ((element.type === "radio" || element.type === "checkbox") && !element.checked) continue;
    if (element.type === "hidden" && element.name !== "file" && element.name !== "idempotency_key")
      continue;
    fields.push([element.name, element.type, element.value]);
  }
  const steps = [...form.querySelectorAll("fieldset.step")];
  const step = steps.findIndex((fieldset) => !fieldset.hidden);
  const state = { fields, step: step >= 0 ? step + 1 : null };
  sessionStorage.setItem(KEPT + window.location.pathname, JSON.stringify(state));
}

function restoreForm(form) {
  const key = KEPT + window.location.pathname;
  let state = null;
  try {
    state = JSON.parse(sessionStorage.getItem(key) ?? "null");
    sessionStorage.removeItem(key);
  } catch {
    return;
  }
  if (!state) return;
  const list = form.querySelector("[data-file-list]");
  const picker = form.querySelector("[data-file-picker]");
  for (const [name, type, value] of state.fields) {
    if (name === "file") {
      if (list && picker && ![...list.querySelectorAll("input[name=file]")].some((f) => f.value === value))
        list.append(readyRow(picker, value));
      continue;
    }
    const control = form.elements[name];
    if (!control) continue;
    if (type === "radio" || type === "checkbox") {
      const boxes = control instanceof RadioNodeList ? [...control] : [control];
      for (const box of boxes) if (box.value === value) box.checked = true;
    } else if (control instanceof RadioNodeList) {
      continue;
    } else {
      control.value = value;
    }
  }
  if (state.step && form.dataset.firstStep) form.dataset.firstStep = String(state.step);
}

/** A row like the server's for a file hashed earlier on this page. */
function readyRow(picker, value) {
  const row = document.createElement("li");
  row.className = "file ready";
  const state = document.createElement("span");
  state.className = "file-state";
  state.textContent = value.startsWith("video:")
    ? picker.dataset.msgReadyVideo
    : picker.dataset.msgReadyImage;
  const field = document.createElement("input");
  field.type = "hidden";
  field.name = "file";
  field.value = value;
  row.append(state, field);
  return row;
}

const form = keptForm();
if (form) {
  if (document.getElementById("error-summary")) {
    // The server sent the form back with what was typed (and perhaps a new key).
    sessionStorage.removeItem(KEPT + window.location.pathname);
  } else {
    restoreForm(form);
  }
  for (const link of document.querySelectorAll(".language-switch a")) {
    link.addEventListener("click", () => saveForm(form));
  }
  // Kept while it is being sent too: if the answer is an error page (a lost
  // connection, an expired form), coming back to the form finds everything again.
  form.addEventListener("submit", () => saveForm(form));
}
if (document.querySelector("[data-case-number]")) {
  // A report was received: nothing typed for it stays in this tab.
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith(KEPT)) sessionStorage.removeItem(key);
  }
}

// --- a refused form: focus on the first field to fix ---------------------------------
// The server marks refused fields aria-invalid and lists them in the error summary (an
// alert). After the page's own script has shown the right step, the first invalid field
// gets the focus, so a screen reader reads its error (tied by aria-describedby).

const invalid = document.querySelector("[aria-invalid='true']");
if (invalid) {
  requestAnimationFrame(() => {
    if (invalid.offsetParent !== null) invalid.focus();
  });
}

// --- counters on long text fields ----------------------------------------------------

for (const counter of document.querySelectorAll("[data-counter-for]")) {
  const field = document.getElementById(counter.dataset.counterFor);
  if (!field) continue;
  const max = Number(field.dataset.counter);
  const update = () => {
    const count = field.value.length;
    counter.textContent = counter.dataset.msg
      .replace("{count}", String(count))
      .replace("{max}", String(max));
    counter.classList.toggle("over", count > max);
  };
  field.addEventListener("input", update);
  update();
}

// --- links that replace the page -------------------------------------------------------

document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest("a[href]");
  if (!link || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href, window.location.href);
  if (url.origin !== window.location.origin || url.hash && url.pathname === window.location.pathname)
    return;
  event.preventDefault();
  window.location.replace(url.href);
});
