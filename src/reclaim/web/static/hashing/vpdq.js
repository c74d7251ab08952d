// vPDQ on the reporter's device: the frame hashes of a video the browser can play,
// computed without the video leaving the device.
//
//   import { videoFrames } from "/static/hashing/vpdq.js";
//   const frames = await videoFrames(file, { secondsPerHash: 1, maxFrames, maxSeconds });
//   // [{pdq, quality, timestamp}, ...] or null when this browser cannot play the file
//
// The file plays in a hidden <video> element from a blob: URL (a reference to the File
// in this page's memory: nothing is fetched or sent). The element is sought to 0 s,
// 1 s, 2 s, ... (the server's sampling: one frame every `secondsPerHash` seconds, as
// vPDQ and python-threatexchange sample); each frame is drawn to a canvas (reduced only
// above MAX_SIDE pixels on its longer side: the canvas's shrink is not PDQ's box filter
// and aliases fine patterns, so smaller canvases lose agreement) and hashed with the
// same in-browser PDQ as pictures. The server's vPDQ
// decodes every frame and keeps every int(fps)-th; seeking by time lands on the same
// frames for whole-number frame rates and within a frame of them otherwise, which the
// vPDQ rule (frames within 31 bits, shares of matching frames) absorbs: see
// docs/hashing.md for the measured agreement.
//
// Needs a page (document): <video> and canvas do not exist in a Web Worker. One frame
// (seek, draw, PDQ) takes 150-300 ms at 720 x 1280 (headless Chromium, loaded 2-core machine); the page yields between frames.
// Each frame object also carries `mediaTime` (the presented frame's time), not sent.

import { PdqAccumulator, pixelsToLuma } from "./pdq.js";

/** Longer side of the canvas a frame is drawn to before PDQ. */
export const MAX_SIDE = 1920;
/** How long one seek may take before the browser is taken as unable to play the file. */
const SEEK_TIMEOUT_MS = 15000;
/** How long to wait, after a seek, for the sought frame to be presented. */
const FRAME_WAIT_MS = 1000;

function once(target, events, timeoutMs) {
  return new Promise((resolve, reject) => {
    const handlers = {};
    const timer = setTimeout(() => finish(() => reject(new Error("timed out"))), timeoutMs);
    function finish(outcome) {
      clearTimeout(timer);
      for (const [name, handler] of Object.entries(handlers)) {
        target.removeEventListener(name, handler);
      }
      outcome();
    }
    for (const name of events) {
      handlers[name] = (event) =>
        finish(() => (name === "error" ? reject(new Error("cannot play")) : resolve(event)));
      target.addEventListener(name, handlers[name]);
    }
  });
}

/**
 * The media time of the next video frame presented (after a seek), or null when none is
 * within FRAME_WAIT_MS (the seek did not change the frame); undefined where the browser
 * has no requestVideoFrameCallback (the caller then trusts the seek).
 */
function nextFrameTime(video) {
  if (typeof video.requestVideoFrameCallback !== "function") return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const handle = video.requestVideoFrameCallback((_now, metadata) => {
      clearTimeout(timer);
      resolve(metadata.mediaTime);
    });
    const timer = setTimeout(() => {
      video.cancelVideoFrameCallback(handle);
      resolve(null);
    }, FRAME_WAIT_MS);
  });
}

/** Seek and wait: the presented frame's media time (see nextFrameTime). */
async function seek(video, time) {
  const presented = nextFrameTime(video);
  video.currentTime = time;
  await once(video, ["seeked", "error"], SEEK_TIMEOUT_MS);
  return presented;
}

/** PDQ `{hash, quality}` of the RGBA pixels of a canvas. */
export function pdqOfCanvas(context, width, height) {
  const { data } = context.getImageData(0, 0, width, height);
  const accumulator = new PdqAccumulator(width, height);
  const luma = new Float32Array(width * height);
  pixelsToLuma(data, 0, luma, 0, width * height);
  accumulator.addLumaRows(luma, height);
  return accumulator.result();
}

/** Canvas size for a `width` x `height` frame: at most MAX_SIDE on the longer side. */
export function reducedSize(width, height, maxSide = MAX_SIDE) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

/**
 * The vPDQ frame list of `file` (a File or Blob of a video), or null when this browser
 * cannot play it (its codec or container): the caller keeps the exact hashes only.
 * `secondsPerHash` (> 0): sampling interval; `maxFrames`, `maxSeconds`: the server's
 * bounds (the list stops there, as the server would refuse more); `onFraction(f)`,
 * `signal` (an AbortSignal) as for pictures.
 */
export async function videoFrames(file, options = {}) {
  const {
    secondsPerHash = 1,
    maxFrames = 3600,
    maxSeconds = Infinity,
    maxSide = MAX_SIDE,
    onFraction,
    signal,
  } = options;
  const step = secondsPerHash > 0 ? secondsPerHash : 1;
  const video = document.createElement("video");
  video.muted = true;
  video.preload = "auto";
  video.playsInline = true;
  const url = URL.createObjectURL(file);
  try {
    video.src = url;
    try {
      await once(video, ["loadeddata", "error"], SEEK_TIMEOUT_MS);
    } catch {
      return null;
    }
    const { videoWidth, videoHeight } = video;
    const duration = Number.isFinite(video.duration) ? video.duration : 0;
    if (!(videoWidth > 0 && videoHeight > 0) || !(duration > 0)) return null;
    const [width, height] = reducedSize(videoWidth, videoHeight, maxSide);
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    // Shrink with a proper filter: a plain bilinear shrink aliases fine patterns.
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = "high";
    const last = Math.min(duration, maxSeconds);
    const count = Math.min(maxFrames, Math.floor(last / step - 1e-9) + 1);
    const frames = [];
    for (let k = 0; k < count; k++) {
      signal?.throwIfAborted();
      const timestamp = k * step;
      // A hair past the frame's start, so rounding never lands on the frame before.
      let mediaTime;
      const lastMediaTime = frames.length ? frames[frames.length - 1].mediaTime : undefined;
      try {
        mediaTime = await seek(video, Math.min(timestamp + 0.001, duration));
        // The container can outlast the video track (a longer audio track): a seek past
        // the track's last frame shows that frame again, which the server never samples.
        // A frame from before the sought time is either that or a slow frame rate: a
        // seek half a step further tells (no new frame: the track has ended).
        const repeated = mediaTime !== undefined && mediaTime === lastMediaTime;
        if (k > 0 && (mediaTime === null || repeated)) break;
        if (k > 0 && mediaTime !== undefined && mediaTime < timestamp - 0.001) {
          const later = await seek(video, Math.min(timestamp + step / 2, duration));
          if (later === null || later === mediaTime) break;
          await seek(video, timestamp + 0.001);
        }
      } catch {
        return frames.length ? frames : null;
      }
      context.drawImage(video, 0, 0, width, height);
      const { hash, quality } = pdqOfCanvas(context, width, height);
      frames.push({ pdq: hash, quality, timestamp: Math.round(timestamp * 1000) / 1000, mediaTime });
      onFraction?.((k + 1) / count);
    }
    return frames;
  } finally {
    video.removeAttribute("src");
    video.load();
    URL.revokeObjectURL(url);
  }
}

/** The frame list as the report form carries it: `pdq,quality,timestamp` joined by `;`. */
export function encodeFrames(frames) {
  return frames.map((f) => `${f.pdq},${f.quality},${f.timestamp.toFixed(3)}`).join(";");
}
