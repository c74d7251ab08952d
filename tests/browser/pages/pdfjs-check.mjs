// Renders page 1 of a PDF with pdf.js (the viewer built into Firefox) onto a canvas,
// and returns its text and how much of the page is drawn on.
import * as pdfjs from "/pdfjs/pdf.mjs";

pdfjs.GlobalWorkerOptions.workerSrc = "/pdfjs/pdf.worker.mjs";

window.renderPdf = async (url) => {
  // No system fonts: what is drawn must come from the fonts inside the PDF.
  const task = pdfjs.getDocument({ url, useSystemFonts: false, isEvalSupported: false });
  const pdf = await task.promise;
  const page = await pdf.getPage(1);
  const viewport = page.getViewport({ scale: 1.5 });
  const canvas = document.getElementById("page");
  canvas.width = viewport.width;
  canvas.height = viewport.height;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.fillStyle = "#fff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  await page.render({ canvas, canvasContext: context, viewport }).promise;
  const text = (await page.getTextContent()).items.map((item) => item.str).join("");
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let dark = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 128) dark += 1;
  return { text, ink: dark / (canvas.width * canvas.height), pages: pdf.numPages };
};
window.pdfjsReady = true;
