// Keeps what is typed in a note until it is saved.  A note typed while the staff session
// ran out comes back after logging in again.  Drafts live in sessionStorage: this tab
// only, gone when the tab closes, keyed by case and staff member, and cleared when
// logging out from the case page.

const PREFIX = "reclaim-draft:";

for (const field of document.querySelectorAll("textarea[data-draft]")) {
  const key = PREFIX + field.dataset.draft;
  const saved = new URLSearchParams(location.search).get("notice");
  if (saved && saved === field.dataset.draftSaved) {
    sessionStorage.removeItem(key);
  }
  const kept = sessionStorage.getItem(key);
  if (kept && !field.value) {
    field.value = kept;
    field.dataset.restored = "yes";
  }
  field.addEventListener("input", () => {
    if (field.value) sessionStorage.setItem(key, field.value);
    else sessionStorage.removeItem(key);
  });
}

for (const form of document.querySelectorAll("form[action='/console/logout']")) {
  form.addEventListener("submit", () => {
    for (const key of Object.keys(sessionStorage)) {
      if (key.startsWith(PREFIX)) sessionStorage.removeItem(key);
    }
  });
}
