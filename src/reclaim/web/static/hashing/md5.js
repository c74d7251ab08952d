// MD5 (RFC 1321), incremental. MD5 is broken for security purposes, but hotlines and
// platforms still exchange exact-match hash lists in MD5, so reports must carry it.

import { BlockDigest } from "./block-digest.js";

// T[i] = floor(2^32 * |sin(i + 1)|), as tabulated in RFC 1321 §3.4.
// prettier-ignore
const T = Int32Array.from([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
]);

// The four round functions, each folded into one step. Sums are taken in doubles (exact
// below 2^53) and wrapped to 32 bits once with `| 0`, which is cheaper than wrapping
// after every addition.
function stepF(a, b, c, d, x, s, t) {
  const n = (a + (d ^ (b & (c ^ d))) + x + t) | 0;
  return (((n << s) | (n >>> (32 - s))) + b) | 0;
}
function stepG(a, b, c, d, x, s, t) {
  const n = (a + (c ^ (d & (b ^ c))) + x + t) | 0;
  return (((n << s) | (n >>> (32 - s))) + b) | 0;
}
function stepH(a, b, c, d, x, s, t) {
  const n = (a + (b ^ c ^ d) + x + t) | 0;
  return (((n << s) | (n >>> (32 - s))) + b) | 0;
}
function stepI(a, b, c, d, x, s, t) {
  const n = (a + (c ^ (b | ~d)) + x + t) | 0;
  return (((n << s) | (n >>> (32 - s))) + b) | 0;
}

export class Md5 extends BlockDigest {
  #h = new Int32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]);
  #x = new Int32Array(16);

  compress(view, offset, blockCount) {
    const h = this.#h;
    const x = this.#x;
    let h0 = h[0];
    let h1 = h[1];
    let h2 = h[2];
    let h3 = h[3];
    for (let block = 0; block < blockCount; block++, offset += 64) {
      for (let i = 0; i < 16; i++) x[i] = view.getInt32(offset + 4 * i, true);
      let a = h0;
      let b = h1;
      let c = h2;
      let d = h3;
      // The 64 steps are spelled out as in RFC 1321: a loop with table look-ups for the
      // message index and the shift runs at about half the speed.
      a = stepF(a, b, c, d, x[0], 7, T[0]);
      d = stepF(d, a, b, c, x[1], 12, T[1]);
      c = stepF(c, d, a, b, x[2], 17, T[2]);
      b = stepF(b, c, d, a, x[3], 22, T[3]);
      a = stepF(a, b, c, d, x[4], 7, T[4]);
      d = stepF(d, a, b, c, x[5], 12, T[5]);
      c = stepF(c, d, a, b, x[6], 17, T[6]);
      b = stepF(b, c, d, a, x[7], 22, T[7]);
      a = stepF(a, b, c, d, x[8], 7, T[8]);
      d = stepF(d, a, b, c, x[9], 12, T[9]);
      c = stepF(c, d, a, b, x[10], 17, T[10]);
      b = stepF(b, c, d, a, x[11], 22, T[11]);
      a = stepF(a, b, c, d, x[12], 7, T[12]);
      d = stepF(d, a, b, c, x[13], 12, T[13]);
      c = stepF(c, d, a, b, x[14], 17, T[14]);
      b = stepF(b, c, d, a, x[15], 22, T[15]);

      a = stepG(a, b, c, d, x[1], 5, T[16]);
      d = stepG(d, a, b, c, x[6], 9, T[17]);
      c = stepG(c, d, a, b, x[11], 14, T[18]);
      b = stepG(b, c, d, a, x[0], 20, T[19]);
      a = stepG(a, b, c, d, x[5], 5, T[20]);
      d = stepG(d, a, b, c, x[10], 9, T[21]);
      c = stepG(c, d, a, b, x[15], 14, T[22]);
      b = stepG(b, c, d, a, x[4], 20, T[23]);
      a = stepG(a, b, c, d, x[9], 5, T[24]);
      d = stepG(d, a, b, c, x[14], 9, T[25]);
      c = stepG(c, d, a, b, x[3], 14, T[26]);
      b = stepG(b, c, d, a, x[8], 20, T[27]);
      a = stepG(a, b, c, d, x[13], 5, T[28]);
      d = stepG(d, a, b, c, x[2], 9, T[29]);
      c = stepG(c, d, a, b, x[7], 14, T[30]);
      b = stepG(b, c, d, a, x[12], 20, T[31]);

      a = stepH(a, b, c, d, x[5], 4, T[32]);
      d = stepH(d, a, b, c, x[8], 11, T[33]);
      c = stepH(c, d, a, b, x[11], 16, T[34]);
      b = stepH(b, c, d, a, x[14], 23, T[35]);
      a = stepH(a, b, c, d, x[1], 4, T[36]);
      d = stepH(d, a, b, c, x[4], 11, T[37]);
      c = stepH(c, d, a, b, x[7], 16, T[38]);
      b = stepH(b, c, d, a, x[10], 23, T[39]);
      a = stepH(a, b, c, d, x[13], 4, T[40]);
      d = stepH(d, a, b, c, x[0], 11, T[41]);
      c = stepH(c, d, a, b, x[3], 16, T[42]);
      b = stepH(b, c, d, a, x[6], 23, T[43]);
      a = stepH(a, b, c, d, x[9], 4, T[44]);
      d = stepH(d, a, b, c, x[12], 11, T[45]);
      c = stepH(c, d, a, b, x[15], 16, T[46]);
      b = stepH(b, c, d, a, x[2], 23, T[47]);

      a = stepI(a, b, c, d, x[0], 6, T[48]);
      d = stepI(d, a, b, c, x[7], 10, T[49]);
      c = stepI(c, d, a, b, x[14], 15, T[50]);
      b = stepI(b, c, d, a, x[5], 21, T[51]);
      a = stepI(a, b, c, d, x[12], 6, T[52]);
      d = stepI(d, a, b, c, x[3], 10, T[53]);
      c = stepI(c, d, a, b, x[10], 15, T[54]);
      b = stepI(b, c, d, a, x[1], 21, T[55]);
      a = stepI(a, b, c, d, x[8], 6, T[56]);
      d = stepI(d, a, b, c, x[15], 10, T[57]);
      c = stepI(c, d, a, b, x[6], 15, T[58]);
      b = stepI(b, c, d, a, x[13], 21, T[59]);
      a = stepI(a, b, c, d, x[4], 6, T[60]);
      d = stepI(d, a, b, c, x[11], 10, T[61]);
      c = stepI(c, d, a, b, x[2], 15, T[62]);
      b = stepI(b, c, d, a, x[9], 21, T[63]);

      h0 = (h0 + a) | 0;
      h1 = (h1 + b) | 0;
      h2 = (h2 + c) | 0;
      h3 = (h3 + d) | 0;
    }
    h[0] = h0;
    h[1] = h1;
    h[2] = h2;
    h[3] = h3;
  }

  writeBitLength(view, high, low) {
    view.setUint32(56, low, true);
    view.setUint32(60, high, true);
  }

  output() {
    const out = new Uint8Array(16);
    const view = new DataView(out.buffer);
    for (let i = 0; i < 4; i++) view.setInt32(4 * i, this.#h[i], true);
    return out;
  }
}
