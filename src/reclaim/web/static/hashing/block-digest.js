// Shared plumbing for Merkle–Damgård digests with 64-byte blocks (MD5, SHA-256):
// buffering of partial blocks across update() calls, padding and the length trailer.
//
// Why not WebCrypto: it has no MD5, and crypto.subtle.digest() takes the whole input at
// once, so a 1 GB video would have to sit in memory. These digests are fed chunk by
// chunk instead.

const BLOCK_BYTES = 64;

/** Lower-case hex of a byte array. */
export function toHex(bytes) {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * Base class: subclasses implement `compress(view, offset, blockCount)`, which folds
 * `blockCount` whole blocks starting at `view` byte `offset` into their state;
 * `writeBitLength(view, high, low)`, which stores the message length trailer at bytes
 * 56..63 of the final block; and `output()`, which returns the digest bytes.
 */
export class BlockDigest {
  #block = new Uint8Array(BLOCK_BYTES);
  #blockView = new DataView(this.#block.buffer);
  #pending = 0; // bytes waiting in #block
  #length = 0; // total bytes fed; a Number is exact far beyond any file size
  #finished = false;

  /** Feed more message bytes (a Uint8Array); returns this for chaining. */
  update(bytes) {
    if (this.#finished) throw new Error("digest already finished; create a new one");
    const total = bytes.length;
    this.#length += total;
    let pos = 0;
    if (this.#pending > 0) {
      pos = Math.min(BLOCK_BYTES - this.#pending, total);
      this.#block.set(bytes.subarray(0, pos), this.#pending);
      this.#pending += pos;
      if (this.#pending < BLOCK_BYTES) return this;
      this.compress(this.#blockView, 0, 1);
      this.#pending = 0;
    }
    // Whole blocks are read straight out of the caller's buffer: no copy.
    const blocks = Math.floor((total - pos) / BLOCK_BYTES);
    if (blocks > 0) {
      const view = new DataView(bytes.buffer, bytes.byteOffset + pos, blocks * BLOCK_BYTES);
      this.compress(view, 0, blocks);
      pos += blocks * BLOCK_BYTES;
    }
    if (pos < total) {
      this.#block.set(bytes.subarray(pos), 0);
      this.#pending = total - pos;
    }
    return this;
  }

  /** Finish and return the digest as bytes. The object cannot be updated afterwards. */
  digest() {
    if (this.#finished) throw new Error("digest already finished; create a new one");
    this.#finished = true;
    const block = this.#block;
    block[this.#pending] = 0x80;
    block.fill(0, this.#pending + 1);
    if (this.#pending >= BLOCK_BYTES - 8) {
      // No room for the 8-byte length: it goes into one more block of zeros.
      this.compress(this.#blockView, 0, 1);
      block.fill(0);
    }
    const bits = this.#length * 8;
    this.writeBitLength(this.#blockView, Math.floor(bits / 2 ** 32), bits >>> 0);
    this.compress(this.#blockView, 0, 1);
    return this.output();
  }

  /** Finish and return the digest as lower-case hex. */
  hexDigest() {
    return toHex(this.digest());
  }
}
