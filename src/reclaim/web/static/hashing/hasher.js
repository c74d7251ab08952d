// On-device hashing for hash-only reports: MD5 and SHA-256 of any image or video, and
// PDQ of images. The file never leaves the device; only these hashes do.
//
// Usable directly in a page (`import {hashFile} from "/static/hashing/hasher.js"`) or
// in a worker (worker.js, driven by client.js), which is what the portal does.

import { BlobReader } from "./blob-reader.js";
import { canDecodeImages, editedBlob, openImage, pdqOfImage } from "./decode.js";
import { ErrorCode, HashError, unreadable } from "./errors.js";
import { readImageHeader } from "./image-header.js";
import { Md5 } from "./md5.js";
import { Sha256 } from "./sha256.js";
import { SNIFF_BYTES, identify } from "./sniff.js";

export { ErrorCode, HashError };

/**
 * No limits unless the caller gives them: the portal passes the server's own
 * (reclaim.hashing.limits.HashingLimits, from the settings) through the file picker's
 * data- attributes, so the two never disagree.
 */
export const DEFAULT_LIMITS = Object.freeze({
  maxImageBytes: Infinity,
  maxVideoBytes: Infinity,
  maxImagePixels: Infinity,
});

// Files are read through a stream into one reused buffer of this size, so a 2 GB video
// never takes more memory than that. (Chromium reads a File about three times faster
// through file.stream() than through blob.slice().arrayBuffer().)
const CHUNK_BYTES = 4 * 1024 * 1024;

// Share of the progress bar for the digests of an image; PDQ gets the rest.
const IMAGE_DIGEST_SHARE = 0.5;

function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

// Progress is passed on in steps of at least this much (streams deliver many small
// chunks; each report from a worker is a message).
const PROGRESS_STEP = 0.005;

/** Passes progress on to `onProgress` when it has moved forward by a step, or ended. */
function progressReporter(onProgress) {
  let last = -1;
  return (fraction) => {
    const value = Math.min(1, Math.max(0, fraction));
    if (value - last < PROGRESS_STEP && !(value === 1 && last < 1)) return;
    last = value;
    onProgress?.(value);
  };
}

/** A stream reader for the blob: `read()` resolves to the next chunk, or null at the end. */
function streamReader(blob) {
  const stream = blob.stream();
  let byob = null;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream in this browser: plain chunks, freshly allocated each time.
  }
  const reader = byob ?? stream.getReader();
  let buffer = new ArrayBuffer(CHUNK_BYTES);
  return {
    async read() {
      let next;
      try {
        next = await (byob ? byob.read(new Uint8Array(buffer)) : reader.read());
      } catch (error) {
        // Chromium: a TypeError ("network error") when the file is gone from the disk.
        throw unreadable(error);
      }
      if (next.done) return null;
      if (byob) buffer = next.value.buffer; // reading transferred the buffer; take it back
      return next.value;
    },
    close() {
      reader.cancel().catch(() => {}); // nothing to do if the stream has failed already
    },
  };
}

/**
 * The blob's bytes in order, as Uint8Arrays. A chunk is only valid until the next one
 * is asked for: where the browser allows it (a "BYOB" reader), one buffer is reused.
 */
async function* chunksOf(blob) {
  const reader = streamReader(blob);
  try {
    for (let chunk = await reader.read(); chunk !== null; chunk = await reader.read()) yield chunk;
  } finally {
    reader.close();
  }
}

/** Whether the blob can be read at all (an empty File may be one that was deleted). */
async function readable(blob) {
  const reader = streamReader(blob);
  try {
    await reader.read();
    return true;
  } catch {
    return false;
  } finally {
    reader.close();
  }
}

/** MD5 and SHA-256 of a blob, read as a stream. */
async function digestsOf(blob, { onBytes, signal }) {
  const md5 = new Md5();
  const sha256 = new Sha256();
  let bytes = 0;
  for await (const chunk of chunksOf(blob)) {
    signal?.throwIfAborted();
    md5.update(chunk);
    sha256.update(chunk);
    bytes += chunk.length;
    onBytes(bytes);
  }
  if (bytes !== blob.size) throw unreadable(new Error(`read ${bytes} of ${blob.size} bytes`));
  return { md5: md5.hexDigest(), sha256: sha256.hexDigest() };
}

/**
 * PDQ of an image, or the reason there is none: `{pdq, pdqSkipped}`. Throws
 * HashError("undecodable") for a broken file in a format every browser reads.
 */
async function imagePdq(file, format, header, limits, { onFraction, signal }) {
  const skipped = (code, message) => ({ pdq: null, pdqSkipped: { code, message } });
  if (!canDecodeImages()) {
    return skipped(ErrorCode.UNSUPPORTED, "This browser cannot decode images off-screen.");
  }
  const pixelLimit = limits.maxImagePixels;
  const tooManyPixels = (width, height) =>
    skipped(
      ErrorCode.TOO_LARGE,
      `The image is ${width}×${height} pixels; PDQ is computed up to ${pixelLimit} pixels.`,
    );
  if (header && header.width * header.height > pixelLimit) {
    return tooManyPixels(header.width, header.height);
  }
  let image;
  try {
    image = await openImage(editedBlob(file, header?.orientationEdit), format.mime);
  } catch (error) {
    if (format.support === "browser") {
      throw new HashError(ErrorCode.UNDECODABLE, `The ${format.mime} image could not be decoded.`, {
        cause: error,
      });
    }
    return skipped(ErrorCode.UNDECODABLE, `This browser cannot decode ${format.mime} images.`);
  }
  try {
    if (image.width * image.height > pixelLimit) return tooManyPixels(image.width, image.height);
    return { pdq: await pdqOfImage(image, { onFraction, signal }), pdqSkipped: null };
  } finally {
    image.close();
  }
}

/**
 * Hash a File or Blob on this device.
 *
 * Resolves to `{md5, sha256, pdq, pdqSkipped, kind, mime, size}`: hex digests in lower
 * case; `pdq` is `{hash, quality}` for images and null for videos, or for images whose
 * PDQ could not be computed here, in which case `pdqSkipped` says why (`{code,
 * message}`, code "too_large" or "undecodable"). `kind` is "image" or "video" and
 * `mime` the format found in the file's bytes (not its name).
 *
 * Options: `onProgress(fraction)`, called with increasing values up to 1; `signal`, an
 * AbortSignal; the limits of DEFAULT_LIMITS.
 *
 * Rejects with HashError: code "unsupported" (not an image or video), "undecodable" (a
 * broken JPEG, PNG, WebP, GIF or BMP), "too_large" (over maxImageBytes or
 * maxVideoBytes) or "unreadable" (the browser could not read the file); with the
 * signal's reason when aborted.
 */
export async function hashFile(file, options = {}) {
  const { onProgress, signal } = options;
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS)) limits[key] = options[key] ?? limits[key];
  if (!(file instanceof Blob)) throw new TypeError("hashFile() takes a File or a Blob");
  signal?.throwIfAborted();

  const reader = new BlobReader(file);
  const format = identify(await reader.bytes(0, SNIFF_BYTES));
  if (format === null) {
    // Chromium reports a File deleted since it was picked as empty.
    if (file.size === 0 && !(await readable(file))) throw unreadable(null);
    const what = file.size === 0 ? "The file is empty" : "The file is not an image or a video";
    throw new HashError(ErrorCode.UNSUPPORTED, `${what}: nothing to hash.`);
  }
  const byteLimit = format.kind === "image" ? limits.maxImageBytes : limits.maxVideoBytes;
  if (file.size > byteLimit) {
    throw new HashError(
      ErrorCode.TOO_LARGE,
      `The ${format.kind} is ${megabytes(file.size)}; the limit is ${megabytes(byteLimit)}.`,
    );
  }
  // A broken header is found before the time-consuming digests, not after.
  let header = null;
  if (format.kind === "image" && format.support === "browser") {
    header = await readImageHeader(reader, format.mime);
    if (header === null) {
      throw new HashError(ErrorCode.UNDECODABLE, `The ${format.mime} image's header is broken.`);
    }
  }

  const report = progressReporter(onProgress);
  const digestShare = format.kind === "image" ? IMAGE_DIGEST_SHARE : 1;
  const digests = await digestsOf(file, {
    onBytes: (bytes) => report((digestShare * bytes) / Math.max(1, file.size)),
    signal,
  });
  let pdq = { pdq: null, pdqSkipped: null };
  if (format.kind === "image") {
    pdq = await imagePdq(file, format, header, limits, {
      onFraction: (fraction) => report(digestShare + (1 - digestShare) * fraction),
      signal,
    });
  }
  report(1);
  return { ...digests, ...pdq, kind: format.kind, mime: format.mime, size: file.size };
}
