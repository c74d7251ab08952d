// Random access to the first bytes of a Blob without reading all of it: image headers
// are parsed from here, and a 60 MB photo should not be loaded to learn its size.

import { unreadable } from "./errors.js";

const WINDOW_BYTES = 64 * 1024;

export class BlobReader {
  #blob;
  #windowStart = 0;
  #window = new Uint8Array(0);

  constructor(blob) {
    this.#blob = blob;
  }

  get size() {
    return this.#blob.size;
  }

  /** Up to `length` bytes at `offset` (fewer at the end of the blob). */
  async bytes(offset, length) {
    const end = Math.min(offset + length, this.#blob.size);
    if (offset < 0 || offset >= end) return new Uint8Array(0);
    const windowEnd = this.#windowStart + this.#window.length;
    if (offset < this.#windowStart || end > windowEnd) {
      const readEnd = Math.min(this.#blob.size, offset + Math.max(length, WINDOW_BYTES));
      try {
        this.#window = new Uint8Array(await this.#blob.slice(offset, readEnd).arrayBuffer());
      } catch (error) {
        throw unreadable(error);
      }
      this.#windowStart = offset;
    }
    return this.#window.subarray(offset - this.#windowStart, end - this.#windowStart);
  }
}
