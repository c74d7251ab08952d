// The file picker of the report form and of the case page.
//
// Each chosen file is hashed on this device, in a Web Worker (/static/hashing/), and
// only its hashes join the form, as a hidden field named "file":
//   image:<md5>:<sha256>[:<pdq>:<quality>]   or   video:<md5>:<sha256>[:<frames>]
// A video the browser can play also gets its vPDQ frame list (/static/hashing/vpdq.js,
// in this page: <video> and canvas do not exist in a worker); one it cannot play keeps
// its exact hashes, and the reporter is told what that means.
// The file input has no name and is emptied as soon as files are taken from it, so the
// form never carries a file. Messages come translated from the page's data-msg-*
// attributes.

import { hashInWorker } from "/static/hashing/client.js";
import { encodeFrames, videoFrames } from "/static/hashing/vpdq.js";

const ERROR_MESSAGES = {
  unsupported: "msgUnsupported",
  undecodable: "msgUndecodable",
  too_large: "msgTooLarge",
  unreadable: "msgUnreadable",
};

/** The hidden field's value for a hashFile() result. */
export function fieldValue(result) {
  const parts = [result.kind, result.md5, result.sha256];
  if (result.pdq) parts.push(result.pdq.hash, String(result.pdq.quality));
  if (result.frames?.length) parts.push(encodeFrames(result.frames));
  return parts.join(":");
}

/**
 * Bring a server-rendered `[data-file-picker]` to life. Returns `{pending, ready}`:
 * how many files are still being hashed, and how many are ready.
 */
export function enhanceFilePicker(picker) {
  const form = picker.closest("form");
  const input = picker.querySelector("input[type=file]");
  const list = picker.querySelector("[data-file-list]");
  const status = picker.querySelector("[data-file-status]");
  const wait = picker.querySelector("[data-file-wait]");
  const text = picker.dataset;
  const maxFiles = Number(text.maxFiles) || Infinity;
  // The server's hashing limits (its settings), so a file the server would refuse is
  // refused here first, with the same numbers.
  const limits = {
    maxImageBytes: Number(text.maxImageBytes) || Infinity,
    maxVideoBytes: Number(text.maxVideoBytes) || Infinity,
    maxImagePixels: Number(text.maxImagePixels) || Infinity,
  };
  const videoLimits = {
    secondsPerHash: Number(text.vpdqSecondsPerHash) || 1,
    maxFrames: Number(text.maxVideoFrames) || 3600,
    maxSeconds: Number(text.maxVideoSeconds) || Infinity,
  };
  let pending = 0;

  picker.querySelector("[data-no-js]")?.setAttribute("hidden", "");
  picker.querySelector("[data-js]")?.removeAttribute("hidden");
  for (const row of list.querySelectorAll("li.ready")) addRemoveButton(row, row.textContent.trim());

  const readyFields = () => [...list.querySelectorAll("input[name=file]")];
  const announce = (message) => {
    status.textContent = message;
  };

  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = ""; // the File objects stay in this script; the form never holds them
    for (const file of files) hashOne(file);
  });

  form.addEventListener("submit", (event) => {
    if (pending > 0) {
      event.preventDefault();
      wait.textContent = text.msgWait;
      wait.hidden = false;
    }
  });

  async function hashOne(file) {
    const row = document.createElement("li");
    row.className = "file";
    const name = document.createElement("span");
    name.className = "file-name";
    name.textContent = file.name;
    const state = document.createElement("span");
    state.className = "file-state";
    row.append(name, state);
    list.append(row);
    if (readyFields().length + pending >= maxFiles) {
      failed(row, state, text.msgTooMany);
      return;
    }
    if (file.size === 0) {
      failed(row, state, text.msgEmpty); // nothing to hash: say so, not "unreadable"
      return;
    }
    const progress = document.createElement("progress");
    progress.max = 1;
    progress.value = 0;
    progress.setAttribute("aria-label", `${file.name}: ${text.msgHashing}`);
    state.textContent = text.msgHashing;
    row.insertBefore(progress, state);
    pending += 1;
    try {
      // A video: the digests take the first half of the bar, its frames the second.
      const share = file.type.startsWith("video/") ? 0.5 : 1;
      const result = await hashInWorker(file, {
        ...limits,
        onProgress: (fraction) => {
          progress.value = share * fraction;
        },
      });
      if (result.kind === "video") {
        result.frames = await videoFrames(file, {
          ...videoLimits,
          onFraction: (fraction) => {
            progress.value = 0.5 + 0.5 * fraction;
          },
        });
      }
      if (readyFields().some((field) => field.value.split(":")[2] === result.sha256)) {
        progress.remove();
        failed(row, state, text.msgDuplicate);
        return;
      }
      const field = document.createElement("input");
      field.type = "hidden";
      field.name = "file";
      field.value = fieldValue(result);
      progress.value = 1;
      // An image without PDQ (HEIC in Chromium): honest about what the fingerprint can do.
      state.textContent =
        result.kind === "video"
          ? result.frames?.length
            ? text.msgReadyVideo
            : text.msgVideoExactOnly
          : result.pdq
            ? text.msgReadyImage
            : text.msgExactOnly;
      row.classList.add("ready");
      row.append(field);
      addRemoveButton(row, file.name);
      announce(`${file.name}: ${state.textContent}`);
    } catch (error) {
      progress.remove();
      failed(row, state, text[ERROR_MESSAGES[error?.code]] ?? text.msgInternal);
    } finally {
      pending -= 1;
      if (pending === 0) wait.hidden = true;
    }
  }

  function failed(row, state, message) {
    row.classList.add("failed");
    state.textContent = message;
    addRemoveButton(row, row.querySelector(".file-name")?.textContent ?? "");
    announce(`${row.querySelector(".file-name")?.textContent ?? ""}: ${message}`);
  }

  function addRemoveButton(row, label) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button small";
    button.textContent = text.msgRemove;
    button.setAttribute("aria-label", `${text.msgRemove}: ${label}`);
    button.addEventListener("click", () => {
      row.remove();
      input.focus();
    });
    row.append(button);
  }

  return {
    pending: () => pending,
    ready: () => readyFields().length,
  };
}
