// Test page for the on-device hasher: exposes `window.hasherTest`, whose async methods
// the Python tests call through Playwright. Every method returns plain JSON data;
// errors come back as `{error: {name, code, message}}` rather than as exceptions.

import { hashInWorker } from "/static/hashing/client.js";
import { hashFile } from "/static/hashing/hasher.js";
import { Md5 } from "/static/hashing/md5.js";
import { PdqAccumulator } from "/static/hashing/pdq.js";
import { Sha256 } from "/static/hashing/sha256.js";
import { videoFrames } from "/static/hashing/vpdq.js";
import { pdqInReferenceOrder } from "./pdq-reference.js";

const violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  violations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});

function hasher(worker) {
  return worker ? hashInWorker : hashFile;
}

async function settle(promise) {
  try {
    return { result: await promise };
  } catch (error) {
    return { error: { name: error?.name, code: error?.code, message: String(error?.message) } };
  }
}

async function fetchFile(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new File([await response.blob()], url.split("/").pop());
}

/** Byte i of the synthetic data: the XOR of i's four bytes (Python computes the same). */
function fillPattern(bytes, start) {
  for (let k = 0; k < bytes.length; k++) {
    const i = start + k;
    bytes[k] = (i ^ (i >>> 8) ^ (i >>> 16) ^ (i >>> 24)) & 255;
  }
  return bytes;
}

// An MP4 file-type box, so that pattern files are taken for videos.
const ascii = (text) => new TextEncoder().encode(text);
const MP4_HEADER = new Uint8Array([
  ...[0, 0, 0, 24],
  ...ascii("ftypisom"),
  ...[0, 0, 2, 0],
  ...ascii("isommp41"),
]);

/** A "video" of MP4_HEADER and then `size` pattern bytes, built in 8 MiB parts. */
function patternVideo(size) {
  const part = 8 * 1024 * 1024;
  const parts = [MP4_HEADER];
  for (let start = 0; start < size; start += part) {
    parts.push(fillPattern(new Uint8Array(Math.min(part, size - start)), start));
  }
  return new File(parts, "pattern.mp4", { type: "video/mp4" });
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

window.hasherTest = {
  violations: () => violations.slice(),

  /** The in-browser vPDQ frame list of a fetched video, and the milliseconds it took. */
  async videoFramesOf(url, options = {}) {
    const file = await fetchFile(url);
    const started = performance.now();
    const frames = await videoFrames(file, options);
    return { frames, ms: performance.now() - started };
  },

  /**
   * Hash files fetched from the test server, one after the other. With `canvasOnly`,
   * WebCodecs' ImageDecoder is hidden, as in browsers without it, so images go through
   * createImageBitmap and a canvas (direct import only: a worker has its own globals).
   */
  async hashUrls(urls, { worker = false, canvasOnly = false, ...options } = {}) {
    const imageDecoder = globalThis.ImageDecoder;
    if (canvasOnly) delete globalThis.ImageDecoder;
    try {
      const out = [];
      for (const url of urls) {
        out.push({ url, ...(await settle(hasher(worker)(await fetchFile(url), options))) });
      }
      return out;
    } finally {
      globalThis.ImageDecoder = imageDecoder;
    }
  },

  /** Hash one fetched file and record every progress callback. */
  async hashUrlWithProgress(url, { worker = false } = {}) {
    const progress = [];
    const file = await fetchFile(url);
    const outcome = await settle(hasher(worker)(file, { onProgress: (f) => progress.push(f) }));
    return { ...outcome, progress };
  },

  /** Hash the files chosen in the page's <input type=file>, as the portal will. */
  async hashInput({ worker = false, ...options } = {}) {
    const files = Array.from(document.getElementById("files").files);
    const out = [];
    for (const file of files) {
      out.push({ name: file.name, ...(await settle(hasher(worker)(file, options))) });
    }
    return out;
  },

  /**
   * Hash a pattern video of `size` bytes generated in the page; returns the time taken
   * and the progress reported. With `abort`, aborts at the first progress report.
   */
  async hashPattern(size, { worker = false, abort = false } = {}) {
    const file = patternVideo(size);
    const controller = new AbortController();
    const progress = [];
    const onProgress = (fraction) => {
      progress.push(fraction);
      if (abort) controller.abort();
    };
    const started = performance.now();
    const outcome = await settle(hasher(worker)(file, { onProgress, signal: controller.signal }));
    return { ...outcome, progress, milliseconds: performance.now() - started };
  },

  /** MD5 and SHA-256 of pattern bytes of each length, fed in pieces cut at `cuts`. */
  digestPieces(cases) {
    return cases.map(({ length, cuts }) => {
      const data = fillPattern(new Uint8Array(length), 0);
      const md5 = new Md5();
      const sha256 = new Sha256();
      let start = 0;
      for (const end of [...cuts, length]) {
        md5.update(data.subarray(start, end));
        sha256.update(data.subarray(start, end));
        start = end;
      }
      return { md5: md5.hexDigest(), sha256: sha256.hexDigest() };
    });
  },

  /** Compute-only digest speed in MB/s over `megabytes` of in-memory data. */
  digestSpeed(megabytes) {
    const data = fillPattern(new Uint8Array(megabytes * 1e6), 0);
    const speed = (Digest) => {
      const started = performance.now();
      const digest = new Digest();
      const chunk = 4 << 20;
      for (let at = 0; at < data.length; at += chunk) digest.update(data.subarray(at, at + chunk));
      digest.hexDigest();
      return megabytes / ((performance.now() - started) / 1000);
    };
    speed(Md5); // warm up the JIT
    speed(Sha256);
    return { md5: speed(Md5), sha256: speed(Sha256) };
  },

  /** Streaming PDQ and its reference-order twin on random luma images. */
  pdqTwins(cases) {
    return cases.map(({ width, height, seed, smooth }) => {
      const next = random(seed);
      const luma = new Float32Array(width * height);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          // Optional smooth structure, so the hash is not of pure noise.
          const base = smooth ? 127 + 100 * Math.sin(x / 37 + seed) * Math.cos(y / 23) : 0;
          luma[y * width + x] = Math.fround(smooth ? base + 20 * next() : 255 * next());
        }
      }
      const streaming = new PdqAccumulator(width, height);
      // Rows arrive in uneven batches, as strips of a canvas would.
      for (let y = 0; y < height; ) {
        const rows = Math.min(height - y, 1 + Math.floor(next() * 7));
        streaming.addLumaRows(luma.subarray(y * width, (y + rows) * width), rows);
        y += rows;
      }
      return { fast: streaming.result(), slow: pdqInReferenceOrder(luma, width, height) };
    });
  },
};

window.hasherTestReady = true;
