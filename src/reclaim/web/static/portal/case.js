// The case page: the "add more" form hashes files on this device like the report form;
// "find a file in my case" hashes a chosen file here and highlights its row (with a
// thumbnail made on this device, never sent); a withdrawal waiting for confirmation
// gets the focus.

import { hashInWorker } from "/static/hashing/client.js";
import { enhanceFilePicker } from "./files.js";

const picker = document.querySelector("form[data-add-items] [data-file-picker]");
if (picker) enhanceFilePicker(picker);

const confirmation = document.querySelector("[data-confirm-withdraw]");
if (confirmation) {
  confirmation.querySelector("h2")?.focus();
}

const finder = document.querySelector("[data-find-file]");
if (finder) {
  const input = finder.querySelector("input[type=file]");
  const status = finder.querySelector("[data-find-status]");
  const text = finder.dataset;
  finder.hidden = false;

  input.addEventListener("change", async () => {
    const [file] = input.files;
    input.value = ""; // the File object stays in this script; no form ever holds it
    if (!file) return;
    for (const row of document.querySelectorAll(".item.found")) {
      row.classList.remove("found");
      row.querySelector(".thumbnail")?.remove();
    }
    status.textContent = text.msgHashing;
    let result;
    try {
      result = await hashInWorker(file, {});
    } catch {
      status.textContent = text.msgFailed;
      return;
    }
    const rows = [...document.querySelectorAll(".item[data-sha256]")].filter(
      (row) => row.dataset.sha256 === result.sha256 || row.dataset.md5 === result.md5,
    );
    if (rows.length === 0) {
      status.textContent = text.msgNotFound;
      return;
    }
    for (const row of rows) {
      row.classList.add("found");
      if (file.type.startsWith("image/")) {
        const thumbnail = document.createElement("img");
        thumbnail.className = "thumbnail";
        thumbnail.alt = "";
        thumbnail.src = URL.createObjectURL(file);
        row.prepend(thumbnail);
      }
    }
    status.textContent = text.msgFound;
    rows[0].scrollIntoView({ block: "center" });
    rows[0].querySelector("button")?.focus();
  });
}
