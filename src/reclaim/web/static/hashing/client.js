// Page-side helper: hash a file in a Web Worker, so the page stays responsive.
//
//   import { hashInWorker } from "/static/hashing/client.js";
//   const { md5, sha256, pdq } = await hashInWorker(file, { onProgress: (f) => ... });
//
// Each call gets its own worker, terminated when the call settles: a decoded photo can
// take hundreds of megabytes, and ending the worker is the surest way to hand that back.

import { ErrorCode, HashError } from "./errors.js";

export { ErrorCode, HashError };

const WORKER_URL = new URL("./worker.js", import.meta.url);

/**
 * Same result and errors as hasher.js's hashFile(file, options). `options`:
 * `onProgress(fraction)`, `signal` (an AbortSignal: aborting terminates the worker and
 * rejects with the signal's reason) and hashFile's limits. A function instead of
 * `options` is taken as `onProgress`.
 */
export function hashInWorker(file, options = {}) {
  const { onProgress, signal, ...limits } =
    typeof options === "function" ? { onProgress: options } : options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const worker = new Worker(WORKER_URL, { type: "module", name: "reclaim-hasher" });
    const onAbort = () => settle(() => reject(signal.reason));
    function settle(outcome) {
      worker.terminate();
      signal?.removeEventListener("abort", onAbort);
      outcome();
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.addEventListener("message", ({ data }) => {
      if (data.type === "progress") onProgress?.(data.fraction);
      else if (data.type === "result") settle(() => resolve(data.result));
      else if (data.type === "error") {
        const error = new HashError(data.error.code, data.error.message);
        if (data.error.name !== "HashError") error.name = data.error.name;
        settle(() => reject(error));
      }
    });
    // Fires when the worker script cannot load (network, CSP) or throws at top level.
    worker.addEventListener("error", (event) => {
      event.preventDefault();
      const detail = event.message || "the worker script could not be loaded";
      settle(() => reject(new HashError(ErrorCode.INTERNAL, `Hashing worker failed: ${detail}`)));
    });
    worker.addEventListener("messageerror", () => {
      const error = new HashError(ErrorCode.INTERNAL, "Hashing worker sent an unreadable message.");
      settle(() => reject(error));
    });
    worker.postMessage({ id: 1, file, options: limits });
  });
}
