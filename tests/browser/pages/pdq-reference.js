// The slow, obvious twin of PdqAccumulator: the reference's own order of work
// (pdqFloat256FromFloatLuma): two full-size buffers, every row filtered, then every
// column, twice over, then sampled. The browser tests check that the streaming
// accumulator agrees with it.

import {
  PDQ_MIN_DIMENSION,
  boxFilter,
  jaroszWindowSize,
  pdqFromDownsample,
  sampleIndices,
} from "/static/hashing/pdq.js";

export function pdqInReferenceOrder(luma, width, height) {
  if (width < PDQ_MIN_DIMENSION || height < PDQ_MIN_DIMENSION) {
    return { hash: "0".repeat(64), quality: 0 };
  }
  const a = Float32Array.from(luma);
  const b = new Float32Array(width * height);
  const rowWindow = jaroszWindowSize(width);
  const columnWindow = jaroszWindowSize(height);
  for (let pass = 0; pass < 2; pass++) {
    for (let y = 0; y < height; y++) boxFilter(a, b, y * width, width, 1, rowWindow);
    for (let x = 0; x < width; x++) boxFilter(b, a, x, height, width, columnWindow);
  }
  const rows = sampleIndices(height);
  const columns = sampleIndices(width);
  const samples = new Float32Array(64 * 64);
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 64; j++) samples[i * 64 + j] = a[rows[i] * width + columns[j]];
  }
  return pdqFromDownsample(samples);
}
