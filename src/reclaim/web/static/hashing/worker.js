// Module worker that hashes files off the page's main thread. Start it with
// `new Worker(url, {type: "module"})` (client.js does).
//
// Protocol. In: `{id, file, options}`, options being hashFile's limits (functions and
// signals cannot cross into a worker; to cancel, terminate the worker). Out, for that id:
// `{id, type: "progress", fraction}` any number of times, then one of
// `{id, type: "result", result}` or `{id, type: "error", error: {name, code, message}}`.

import { ErrorCode, hashFile } from "./hasher.js";

function describe(error) {
  return {
    name: error?.name ?? "Error",
    code: error?.code ?? ErrorCode.INTERNAL,
    message: String(error?.message ?? error),
  };
}

self.addEventListener("message", async (event) => {
  const { id, file, options } = event.data;
  try {
    const onProgress = (fraction) => self.postMessage({ id, type: "progress", fraction });
    const result = await hashFile(file, { ...options, onProgress });
    self.postMessage({ id, type: "result", result });
  } catch (error) {
    self.postMessage({ id, type: "error", error: describe(error) });
  }
});
