// The report form, one step at a time.
//
// Without this script the form shows every step at once and works as a plain form
// (web addresses only: hashing files needs this script). With it, each fieldset is a
// step with Back and Next; a step's answers are checked before moving on, with the
// page's own translated message; focus moves to the new step, so the form can be
// completed with the keyboard alone.

import { enhanceFilePicker } from "./files.js";

const URL_START = /^https?:\/\//i;

function enhanceSteps(form) {
  const steps = [...form.querySelectorAll("fieldset.step")];
  const picker = form.querySelector("[data-file-picker]");
  let files = null; // the picker, enhanced after this script's submit handler is in place
  let current = 0;

  form.noValidate = true; // this script checks each step and says what is missing
  form.classList.add("stepped");
  for (const element of form.querySelectorAll("[data-js-only]")) element.hidden = false;

  const controls = (step) => [...step.querySelectorAll("input, textarea, select")];
  const lines = (name) =>
    (form.elements[name]?.value ?? "")
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);

  /** Whether a step's answers are complete enough to move on. */
  function stepIsValid(step) {
    if (!controls(step).every((control) => control.checkValidity())) return false;
    switch (step.dataset.step) {
      case "where":
        return lines("urls").every((line) => URL_START.test(line));
      case "files":
        // A threat can be reported with neither: the child may have no link or copy.
        return (
          ["threat", "both"].includes(form.elements.situation.value) ||
          lines("urls").length > 0 ||
          (files !== null && files.ready() + files.pending() > 0)
        );
      case "more":
        return !form.elements.contact.value.trim() || form.elements.contact_consent.checked;
      default:
        return true;
    }
  }

  function showError(step, visible) {
    const message = step.querySelector("[data-step-error]");
    if (!message) return;
    message.textContent = visible ? step.dataset.error : "";
    message.hidden = !visible;
  }

  function focusStep(step) {
    const target =
      step.querySelector("input:checked") ??
      step.querySelector("input:not([type=hidden]):not([disabled]), textarea") ??
      step.querySelector("button");
    target?.focus();
    step.scrollIntoView({ block: "start" });
  }

  function show(index, moveFocus) {
    current = Math.max(0, Math.min(index, steps.length - 1));
    steps.forEach((step, n) => {
      step.hidden = n !== current;
    });
    if (moveFocus) focusStep(steps[current]);
  }

  /** Check the current step; on a problem say it and stay. */
  function checkCurrent() {
    const step = steps[current];
    const valid = stepIsValid(step);
    showError(step, !valid);
    if (!valid) {
      const message = step.querySelector("[data-step-error]");
      const firstBad = controls(step).find((control) => !control.checkValidity());
      (firstBad ?? step.querySelector("textarea, input:not([type=hidden])"))?.focus();
      if (message) message.scrollIntoView({ block: "nearest" });
    }
    return valid;
  }

  form.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-next], button[data-back]");
    if (!button) return;
    if (button.hasAttribute("data-back")) show(current - 1, true);
    else if (checkCurrent()) show(current + 1, true);
  });

  // Enter in a step (a radio button, the contact field) submits a form: before the last
  // step it means "Next", and the last step sends only when every step is complete and
  // every file is hashed (the picker then says what it is waiting for).
  form.addEventListener("submit", (event) => {
    if (current < steps.length - 1) {
      event.preventDefault();
      if (checkCurrent()) show(current + 1, true);
      return;
    }
    const incomplete = steps.findIndex((step) => !stepIsValid(step));
    if (incomplete !== -1) {
      event.preventDefault();
      show(incomplete, false);
      checkCurrent();
    } else if (files !== null && files.pending() > 0) {
      show(steps.findIndex((step) => step.dataset.step === "files"), true);
    }
  });
  if (picker) files = enhanceFilePicker(picker);

  const first = Number(form.dataset.firstStep) || 1;
  show(first - 1, false);
}

const form = document.querySelector("form[data-steps]");
if (form) enhanceSteps(form);
