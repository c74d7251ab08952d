// The confirmation page's buttons: copy, print, and save the case number and PIN as a
// text file. Everything happens on this device; nothing is sent anywhere.

const actions = document.querySelector("[data-receipt-actions]");

function enhance(actions) {
  const text = document.getElementById("receipt-text").textContent;
  const status = document.querySelector("[data-status]");
  const say = (message) => {
    status.textContent = message;
  };
  actions.hidden = false;

  actions.querySelector("[data-copy]").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      say(actions.dataset.msgCopied);
    } catch {
      say(actions.dataset.msgCopyFailed);
    }
  });

  actions.querySelector("[data-print]").addEventListener("click", () => window.print());

  actions.querySelector("[data-save]").addEventListener("click", () => {
    // A byte-order mark, so that older Windows editors read the Chinese text as UTF-8.
    const blob = new Blob(["\ufeff", text], { type: "text/plain;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = actions.dataset.fileName;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    say(actions.dataset.msgSaved);
  });
}

if (actions) enhance(actions);

// The signed receipt, saved as the JSON file a social worker or the police can check.
const signed = document.querySelector("[data-signed-actions]");
if (signed) {
  signed.hidden = false;
  signed.querySelector("[data-save-signed]").addEventListener("click", () => {
    const text = document.querySelector("[data-signed-receipt]").textContent;
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = signed.dataset.fileName;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    const status = document.querySelector("[data-status]");
    if (status) status.textContent = signed.dataset.msgSaved;
  });
}
