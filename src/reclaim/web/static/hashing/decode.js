// Browser decoding for PDQ: image file -> pixels, a strip of rows at a time -> luma ->
// PdqAccumulator. Works in a page and in a worker (no DOM).
//
// Two decoders, both Blink's own image decoders underneath:
//  - WebCodecs' ImageDecoder where the browser has it (Chromium, in secure contexts).
//    Preferred because it hands over the pixels unpremultiplied: behind fully
//    transparent pixels a PNG still stores colours, the reference (Pillow's
//    convert("RGB")) hashes them, and a canvas would turn them black.
//  - createImageBitmap + OffscreenCanvas everywhere else. Exact for opaque images;
//    for transparent ones the canvas's premultiplied storage loses the hidden colours.

import { PdqAccumulator, pixelsToLuma } from "./pdq.js";

// colorSpaceConversion "none": the reference ignores embedded ICC profiles, so the
// browser must not convert colours by them either. Orientation is neutralised in the
// bytes beforehand (image-header.js), so the image arrives as stored whatever the
// decoder does about it; "from-image" is the only value Chromium still honours.
const DECODE_OPTIONS = Object.freeze({ premultiplyAlpha: "none", colorSpaceConversion: "none" });
const BITMAP_OPTIONS = Object.freeze({ ...DECODE_OPTIONS, imageOrientation: "from-image" });

// Where red and blue sit in each 4-byte pixel of the VideoFrame formats read directly.
const FRAME_CHANNELS = {
  RGBA: [0, 2],
  RGBX: [0, 2],
  BGRA: [2, 0],
  BGRX: [2, 0],
};

// Pixels are read a strip of rows (and at most this many pixels) at a time, so besides
// the decoded image only about 4 MB of pixels are held, whatever its size.
const STRIP_PIXELS = 1 << 20;
const TILE_WIDTH = 4096; // canvas tiles: far below every browser's canvas size limit

// In a page (not a worker) give the event loop a turn this often, so that hashing a
// large photo does not freeze the page.
const YIELD_EVERY_MS = 30;

export function canDecodeImages() {
  return typeof createImageBitmap === "function" && typeof OffscreenCanvas === "function";
}

/** A blob with `edit` ({start, end, replacement}) applied, without copying the rest. */
export function editedBlob(blob, edit) {
  if (!edit) return blob;
  const parts = [blob.slice(0, edit.start), edit.replacement, blob.slice(edit.end)];
  return new Blob(parts, { type: blob.type });
}

/** Pixels of the first frame of an image from WebCodecs' ImageDecoder. */
class FrameSource {
  static async open(blob, mime) {
    if (typeof ImageDecoder !== "function" || !(await ImageDecoder.isTypeSupported(mime))) {
      return null;
    }
    const decoder = new ImageDecoder({ data: blob.stream(), type: mime, ...DECODE_OPTIONS });
    let frame;
    try {
      frame = (await decoder.decode({ frameIndex: 0 })).image;
    } catch {
      return null; // let the other decoder try, and fail with its own error
    } finally {
      decoder.close();
    }
    if (!(frame.format in FRAME_CHANNELS)) {
      frame.close(); // e.g. a lossy WebP, delivered as YUV: the canvas converts it to RGB
      return null;
    }
    return new FrameSource(frame);
  }

  constructor(frame) {
    this.frame = frame;
    this.width = frame.visibleRect.width;
    this.height = frame.visibleRect.height;
    [this.red, this.blue] = FRAME_CHANNELS[frame.format];
    this.buffer = null;
  }

  async lumaRows(y, rows, luma) {
    const { frame, width } = this;
    this.buffer ??= new Uint8Array(width * 4 * Math.min(this.height, stripRowsFor(width)));
    const { x: left, y: top } = frame.visibleRect;
    await frame.copyTo(this.buffer, {
      rect: { x: left, y: top + y, width, height: rows },
      layout: [{ offset: 0, stride: width * 4 }],
    });
    pixelsToLuma(this.buffer, 0, luma, 0, width * rows, this.red, this.blue);
  }

  close() {
    this.frame.close();
  }
}

/** Pixels of an ImageBitmap, read back through a small OffscreenCanvas. */
class BitmapSource {
  static async open(blob) {
    return new BitmapSource(await createImageBitmap(blob, BITMAP_OPTIONS));
  }

  constructor(bitmap) {
    this.bitmap = bitmap;
    this.width = bitmap.width;
    this.height = bitmap.height;
    this.tileWidth = Math.min(this.width, TILE_WIDTH);
    const stripRows = Math.min(this.height, stripRowsFor(this.width));
    const canvas = new OffscreenCanvas(this.tileWidth, stripRows);
    // willReadFrequently keeps the canvas in memory rather than on the GPU: every pixel
    // is read back, and GPU read-back is slow.
    this.context = canvas.getContext("2d", { willReadFrequently: true });
    this.context.imageSmoothingEnabled = false;
  }

  async lumaRows(y, rows, luma) {
    const { bitmap, context, width, tileWidth } = this;
    for (let x = 0; x < width; x += tileWidth) {
      const columns = Math.min(tileWidth, width - x);
      context.clearRect(0, 0, columns, rows);
      context.drawImage(bitmap, x, y, columns, rows, 0, 0, columns, rows);
      const rgba = context.getImageData(0, 0, columns, rows).data;
      for (let r = 0; r < rows; r++) {
        pixelsToLuma(rgba, r * columns, luma, r * width + x, columns, 0, 2);
      }
    }
  }

  close() {
    this.bitmap.close();
  }
}

function stripRowsFor(width) {
  return Math.max(1, Math.floor(STRIP_PIXELS / width));
}

/**
 * Decode an image for hashing: `{width, height, lumaRows(y, rows, luma), close()}`.
 * Rejects (with the browser's error) when no decoder can read it.
 */
export async function openImage(blob, mime) {
  return (await FrameSource.open(blob, mime)) ?? (await BitmapSource.open(blob));
}

function yieldToEventLoop() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * PDQ `{hash, quality}` of an opened image. `onFraction(f)` reports progress in 0..1;
 * `signal` (an AbortSignal) is checked between strips.
 */
export async function pdqOfImage(image, { onFraction, signal } = {}) {
  const { width, height } = image;
  const accumulator = new PdqAccumulator(width, height);
  const stripRows = Math.min(height, stripRowsFor(width));
  const luma = new Float32Array(width * stripRows);
  const inPage = typeof document !== "undefined";
  let lastYield = performance.now();
  for (let y = 0; y < height; y += stripRows) {
    signal?.throwIfAborted();
    const rows = Math.min(stripRows, height - y);
    await image.lumaRows(y, rows, luma);
    accumulator.addLumaRows(luma, rows);
    onFraction?.((y + rows) / height);
    if (inPage && performance.now() - lastYield > YIELD_EVERY_MS) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
  return accumulator.result();
}
