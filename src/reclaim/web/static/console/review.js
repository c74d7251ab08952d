// Safe review on the console's case and media pages.
//
// "Show blurred preview" links load the preview in place instead of following the
// link (which, without this script, opens the media page with the preview shown).
// Reveal forms for images post in the background and show the original from a blob:
// URL, released as soon as the picture has been drawn, so the bytes are not kept
// around and the page is not left on a raw image document.

function showPreview(link) {
  const figure = document.createElement("figure");
  figure.className = "preview";
  const image = document.createElement("img");
  image.alt = link.dataset.previewAlt || "";
  image.src = link.dataset.previewSrc;
  figure.append(image);
  link.after(figure);
  link.hidden = true;
}

async function reveal(form) {
  const button = form.querySelector("button[type=submit]");
  const target = form.parentElement.querySelector(".reveal-target");
  button.disabled = true;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      cache: "no-store",
    });
    const type = response.headers.get("content-type") || "";
    if (!response.ok || !type.startsWith("image/")) {
      throw new Error(`reveal answered ${response.status}`);
    }
    const url = URL.createObjectURL(await response.blob());
    const image = document.createElement("img");
    image.alt = form.dataset.revealAlt || "";
    image.className = "revealed";
    image.addEventListener("load", () => URL.revokeObjectURL(url), { once: true });
    image.addEventListener("error", () => URL.revokeObjectURL(url), { once: true });
    image.src = url;
    target.replaceChildren(image);
    form.reset();
  } catch {
    const message = document.createElement("p");
    message.className = "error";
    message.textContent = form.dataset.revealError || "";
    target.replaceChildren(message);
  } finally {
    button.disabled = false;
  }
}

for (const link of document.querySelectorAll("a[data-preview-src]")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    showPreview(link);
  });
}

for (const form of document.querySelectorAll("form[data-reveal]")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    reveal(form);
  });
}
