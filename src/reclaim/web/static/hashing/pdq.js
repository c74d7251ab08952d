// PDQ perceptual hash (Meta, "The TMK+PDQF and PDQ hashing algorithms", 2019), following
// the reference C++ in facebook/ThreatExchange: pdq/cpp/hashing/pdqhashing.cpp and
// pdq/cpp/downscaling/downscaling.cpp. Pure computation: no DOM, usable in workers.
//
// Pipeline: RGB -> luma -> Jarosz filter (two passes of a box filter along rows and
// along columns) -> sample 64x64 -> quality from gradients -> 16x16 of a 2-D DCT ->
// one bit per coefficient: above the median or not.
//
// The reference computes in 32-bit floats. JavaScript computes in doubles, so every
// stored value goes through a Float32Array or Math.fround: that keeps the rounding (and
// so the odd borderline bit) the same as the reference's.

const DOWNSAMPLE = 64;
const DCT = 16;

/** Images smaller than this in either dimension get the all-zero hash, quality 0. */
export const PDQ_MIN_DIMENSION = 5;

/** Box-filter window for shrinking `oldSize` to `newSize`: ceil(old / (2 * new)). */
export function jaroszWindowSize(oldSize, newSize = DOWNSAMPLE) {
  return Math.floor((oldSize + 2 * newSize - 1) / (2 * newSize));
}

/**
 * The reference's 1-D box filter (box1DFloat): a running sum over a centred window that
 * shrinks at both ends, so edge pixels are averaged over fewer neighbours rather than
 * padded. Reads `length` values from `input` at `start`, `start + stride`, ... and writes
 * the same positions of `output` (Float32Arrays, distinct).
 */
export function boxFilter(input, output, start, length, stride, windowSize) {
  const half = Math.floor((windowSize + 2) / 2);
  const phase1 = half - 1;
  const phase2 = windowSize - half + 1;
  const phase3 = length - windowSize;
  const phase4 = half - 1;
  let li = start; // left edge of the window: leaves the sum
  let ri = start; // right edge: enters the sum
  let oi = start;
  let sum = 0;
  let count = 0;
  // The sum is rounded to float32 after every step because the reference's running sum
  // is a float, and its drift over a long row is part of what it computes.
  for (let i = 0; i < phase1; i++, ri += stride) {
    sum = Math.fround(sum + input[ri]);
    count++;
  }
  for (let i = 0; i < phase2; i++, ri += stride, oi += stride) {
    sum = Math.fround(sum + input[ri]);
    count++;
    output[oi] = sum / count;
  }
  for (let i = 0; i < phase3; i++, li += stride, ri += stride, oi += stride) {
    sum = Math.fround(sum + input[ri]);
    sum = Math.fround(sum - input[li]);
    output[oi] = sum / count;
  }
  for (let i = 0; i < phase4; i++, li += stride, oi += stride) {
    sum = Math.fround(sum - input[li]);
    count--;
    output[oi] = sum / count;
  }
}

/** Indices of the 64 samples taken along a dimension of `size`: strip centres. */
export function sampleIndices(size) {
  const indices = new Int32Array(DOWNSAMPLE);
  for (let i = 0; i < DOWNSAMPLE; i++) indices[i] = Math.floor(((i + 0.5) * size) / DOWNSAMPLE);
  return indices;
}

/**
 * Luma of `count` 4-byte pixels (RGBA or BGRA: red at byte `red`, blue at `blue`) from
 * `pixels`, starting at pixel `pixelOffset`, into the Float32Array `out` at `outOffset`.
 * The weights and the order of the sums are those of the pdqhash Python binding (numpy,
 * in doubles, then cast to float32), which made reference.tsv.
 */
export function pixelsToLuma(pixels, pixelOffset, out, outOffset, count, red = 0, blue = 2) {
  let p = pixelOffset * 4;
  for (let i = 0; i < count; i++, p += 4) {
    out[outOffset + i] = pixels[p + red] * 0.299 + pixels[p + 1] * 0.587 + pixels[p + blue] * 0.114;
  }
}

/**
 * Streaming PDQ: feed luma rows top to bottom, then ask for the hash.
 *
 * The reference filters the whole image along rows, then columns, then rows and
 * columns again, holding two full-size float buffers (800 MB for a 100-megapixel
 * image). Filtering along rows and along columns are linear maps on different axes, so
 * they commute: rows-rows-columns-columns gives the same 64x64 samples. Each row is
 * therefore filtered twice as it arrives and only its 64 sample columns are kept; the
 * columns are filtered at the end. Memory: 64 floats per image row. (Float rounding
 * differs from the reference's order in the last bits only; the browser tests check the
 * result against a full-buffer twin in the reference's order.)
 */
export class PdqAccumulator {
  constructor(width, height) {
    if (!(width > 0 && height > 0)) throw new RangeError("image dimensions must be positive");
    this.width = width;
    this.height = height;
    this.rowsSeen = 0;
    this.rowWindow = jaroszWindowSize(width);
    this.columnWindow = jaroszWindowSize(height);
    this.sampleColumns = sampleIndices(width);
    this.sampleRows = sampleIndices(height);
    this.rowA = new Float32Array(width);
    this.rowB = new Float32Array(width);
    // The kept samples, column-major, so each column is contiguous for its filter pass.
    this.columns = new Float32Array(DOWNSAMPLE * height);
  }

  /** Add `rowCount` rows of luma from `luma` (Float32Array, rows of `width` values). */
  addLumaRows(luma, rowCount) {
    const { width, height, rowA, rowB, columns, sampleColumns, rowWindow } = this;
    if (this.rowsSeen + rowCount > height) throw new RangeError("more rows than the image has");
    for (let r = 0; r < rowCount; r++) {
      rowA.set(luma.subarray(r * width, (r + 1) * width));
      boxFilter(rowA, rowB, 0, width, 1, rowWindow);
      boxFilter(rowB, rowA, 0, width, 1, rowWindow);
      const y = this.rowsSeen + r;
      for (let j = 0; j < DOWNSAMPLE; j++) columns[j * height + y] = rowA[sampleColumns[j]];
    }
    this.rowsSeen += rowCount;
  }

  /** The 64x64 downsample (row-major Float32Array) once every row has been added. */
  downsample() {
    const { height, columns, columnWindow, sampleRows } = this;
    if (this.rowsSeen !== height) throw new Error(`only ${this.rowsSeen} of ${height} rows added`);
    const scratch = new Float32Array(height);
    const out = new Float32Array(DOWNSAMPLE * DOWNSAMPLE);
    for (let j = 0; j < DOWNSAMPLE; j++) {
      const column = columns.subarray(j * height, (j + 1) * height);
      boxFilter(column, scratch, 0, height, 1, columnWindow);
      boxFilter(scratch, column, 0, height, 1, columnWindow);
      for (let i = 0; i < DOWNSAMPLE; i++) out[i * DOWNSAMPLE + j] = column[sampleRows[i]];
    }
    return out;
  }

  /** `{hash, quality}` of the image. */
  result() {
    if (this.width < PDQ_MIN_DIMENSION || this.height < PDQ_MIN_DIMENSION) {
      return { hash: "0".repeat(64), quality: 0 };
    }
    return pdqFromDownsample(this.downsample());
  }
}

/**
 * The reference's quality metric: the sum of absolute differences between neighbouring
 * samples, each first scaled to 0..100 and truncated to an integer, divided by 90 and
 * capped at 100. Flat or nearly flat images score low and make unreliable hashes.
 */
export function qualityOf(samples) {
  let gradientSum = 0;
  const n = DOWNSAMPLE;
  for (let i = 0; i < n - 1; i++) {
    for (let j = 0; j < n; j++) {
      const d = Math.fround(Math.fround(samples[i * n + j] - samples[(i + 1) * n + j]) * 100);
      gradientSum += Math.abs(Math.trunc(Math.fround(d / 255)));
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n - 1; j++) {
      const d = Math.fround(Math.fround(samples[i * n + j] - samples[i * n + j + 1]) * 100);
      gradientSum += Math.abs(Math.trunc(Math.fround(d / 255)));
    }
  }
  return Math.min(100, Math.floor(gradientSum / 90));
}

// Rows 1..16 of the 64-point DCT-II basis with the reference's scale sqrt(2/64). Row 0
// (the average brightness) is skipped on purpose: it carries no structure.
const DCT_MATRIX = (() => {
  const matrix = new Float32Array(DCT * DOWNSAMPLE);
  const scale = Math.sqrt(2 / DOWNSAMPLE);
  const step = Math.PI / 2 / DOWNSAMPLE;
  for (let i = 0; i < DCT; i++) {
    for (let j = 0; j < DOWNSAMPLE; j++) {
      matrix[i * DOWNSAMPLE + j] = scale * Math.cos(step * (i + 1) * (2 * j + 1));
    }
  }
  return matrix;
})();

/** D * A * D^T for the 64x64 samples A: the 16x16 low-frequency coefficients. */
export function dct16(samples) {
  const d = DCT_MATRIX;
  const partial = new Float32Array(DCT * DOWNSAMPLE);
  for (let i = 0; i < DCT; i++) {
    for (let j = 0; j < DOWNSAMPLE; j++) {
      let sum = 0;
      for (let k = 0; k < DOWNSAMPLE; k++) {
        sum = Math.fround(sum + Math.fround(d[i * DOWNSAMPLE + k] * samples[k * DOWNSAMPLE + j]));
      }
      partial[i * DOWNSAMPLE + j] = sum;
    }
  }
  const out = new Float32Array(DCT * DCT);
  for (let i = 0; i < DCT; i++) {
    for (let j = 0; j < DCT; j++) {
      let sum = 0;
      for (let k = 0; k < DOWNSAMPLE; k++) {
        sum = Math.fround(sum + Math.fround(partial[i * DOWNSAMPLE + k] * d[j * DOWNSAMPLE + k]));
      }
      out[i * DCT + j] = sum;
    }
  }
  return out;
}

/**
 * Torben's median (as in the reference's torben.cpp): bisects on value instead of
 * sorting. Kept rather than a sort because its result for an even count (the lower
 * middle value, or a midpoint in ties) is what decides the borderline bits.
 */
export function torbenMedian(values) {
  const n = values.length;
  const halfUp = Math.floor((n + 1) / 2);
  let min = values[0];
  let max = values[0];
  for (let i = 1; i < n; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  let less;
  let greater;
  let equal;
  let guess;
  let maxBelow;
  let minAbove;
  for (;;) {
    guess = Math.fround(Math.fround(min + max) / 2);
    less = 0;
    greater = 0;
    equal = 0;
    maxBelow = min;
    minAbove = max;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v < guess) {
        less++;
        if (v > maxBelow) maxBelow = v;
      } else if (v > guess) {
        greater++;
        if (v < minAbove) minAbove = v;
      } else {
        equal++;
      }
    }
    if (less <= halfUp && greater <= halfUp) break;
    if (less > greater) max = maxBelow;
    else min = minAbove;
  }
  if (less >= halfUp) return maxBelow;
  if (less + equal >= halfUp) return guess;
  return minAbove;
}

/**
 * Hash bits to hex in the reference's layout (Hash256::format): coefficient (i, j) is
 * bit j of 16-bit word i, and the words are printed from 15 down to 0.
 */
export function bitsToHex(coefficients, threshold) {
  let hex = "";
  for (let i = DCT - 1; i >= 0; i--) {
    let word = 0;
    for (let j = 0; j < DCT; j++) {
      if (coefficients[i * DCT + j] > threshold) word |= 1 << j;
    }
    hex += word.toString(16).padStart(4, "0");
  }
  return hex;
}

/** `{hash, quality}` from the 64x64 downsample (row-major). */
export function pdqFromDownsample(samples) {
  const quality = qualityOf(samples);
  const coefficients = dct16(samples);
  return { hash: bitsToHex(coefficients, torbenMedian(coefficients)), quality };
}
