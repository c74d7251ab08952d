// Image dimensions and EXIF orientation, read from the header before anything is
// decoded. Dimensions first, because a small file can claim a huge canvas
// (a decompression bomb) and the browser would try to allocate it. Orientation,
// because PDQ hashes pixels as stored: Meta's reference tools and the server-side
// hasher read files with Pillow, which ignores EXIF orientation, whereas browsers
// rotate JPEG and PNG images by it, and Chromium 156 does so even for
// createImageBitmap(..., {imageOrientation: "none"}) ("none" is now treated as
// "from-image"). So the orientation tag is neutralised in a copy of the bytes instead
// (see orientationEdit below).

const MAX_SEGMENTS = 1000; // bounds the header walks on hostile files

function u16be(b, i) {
  return (b[i] << 8) | b[i + 1];
}
function u32be(b, i) {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}
function u16le(b, i) {
  return b[i] | (b[i + 1] << 8);
}
function u24le(b, i) {
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
}
function u32le(b, i) {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}
function fourcc(b, i) {
  return String.fromCharCode(b[i], b[i + 1], b[i + 2], b[i + 3]);
}

/**
 * Find the Orientation tag (0x0112) in IFD0 of the TIFF structure that starts at
 * `tiff` in `data`. Returns `{value, offset, littleEndian}`, `offset` being where the
 * 2-byte value sits in the file (`data` starts at file offset `base`), or null.
 */
export function findOrientation(data, tiff, base) {
  if (data.length < tiff + 8) return null;
  const littleEndian = data[tiff] === 0x49 && data[tiff + 1] === 0x49; // "II"
  if (!littleEndian && !(data[tiff] === 0x4d && data[tiff + 1] === 0x4d)) return null; // "MM"
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint16(tiff + 2, littleEndian) !== 42) return null;
  const ifd = tiff + view.getUint32(tiff + 4, littleEndian);
  if (ifd + 2 > data.length) return null;
  const count = view.getUint16(ifd, littleEndian);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + 12 * i;
    if (entry + 12 > data.length) return null;
    if (view.getUint16(entry, littleEndian) !== 0x0112) continue;
    if (view.getUint16(entry + 2, littleEndian) !== 3) return null; // not a SHORT
    const value = view.getUint16(entry + 8, littleEndian);
    return { value, offset: base + entry + 8, littleEndian };
  }
  return null;
}

function startsWithExifPrefix(data) {
  return data.length >= 6 && fourcc(data, 0) === "Exif" && data[4] === 0 && data[5] === 0;
}

function rotatesOrFlips(value) {
  return value >= 2 && value <= 8;
}

/** `{value, edit}`, the edit rewriting the tag's value in place to 1 ("as stored"). */
function rewriteToOne(found) {
  if (!found) return null;
  if (!rotatesOrFlips(found.value)) return { value: found.value, edit: null };
  const replacement = found.littleEndian ? new Uint8Array([1, 0]) : new Uint8Array([0, 1]);
  return { value: found.value, edit: { start: found.offset, end: found.offset + 2, replacement } };
}

// JPEG: walk the marker segments up to the frame header (SOFn), noting the EXIF APP1.
async function jpegHeader(reader) {
  let offset = 2;
  let orientation = null;
  for (let n = 0; n < MAX_SEGMENTS; n++) {
    const head = await reader.bytes(offset, 4);
    if (head.length < 4 || head[0] !== 0xff) return null;
    const marker = head[1];
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image or scan before a frame
    const length = u16be(head, 2);
    if (length < 2) return null;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (isFrame) {
      const frame = await reader.bytes(offset + 4, 5);
      if (frame.length < 5) return null;
      return { height: u16be(frame, 1), width: u16be(frame, 3), orientation };
    }
    if (marker === 0xe1 && orientation === null) {
      const data = await reader.bytes(offset + 4, length - 2);
      if (startsWithExifPrefix(data)) {
        orientation = rewriteToOne(findOrientation(data, 6, offset + 4));
      }
    }
    offset += 2 + length;
  }
  return null;
}

// PNG: IHDR is the first chunk; an eXIf chunk, if any, comes before the image data.
async function pngHeader(reader) {
  const ihdr = await reader.bytes(8, 16);
  if (ihdr.length < 16 || fourcc(ihdr, 4) !== "IHDR") return null;
  const header = { width: u32be(ihdr, 8), height: u32be(ihdr, 12), orientation: null };
  let offset = 8;
  for (let n = 0; n < MAX_SEGMENTS; n++) {
    const chunk = await reader.bytes(offset, 8);
    if (chunk.length < 8) break;
    const length = u32be(chunk, 0);
    const type = fourcc(chunk, 4);
    if (type === "IDAT" || type === "IEND") break;
    if (type === "eXIf") {
      const data = await reader.bytes(offset + 8, length);
      const found = findOrientation(data, 0, offset + 8);
      // The chunk has a CRC, so it is dropped rather than patched: it is ancillary.
      const drop = { start: offset, end: offset + 12 + length, replacement: new Uint8Array(0) };
      if (found) header.orientation = { value: found.value, edit: null };
      if (found && rotatesOrFlips(found.value)) header.orientation.edit = drop;
      break;
    }
    offset += 12 + length;
  }
  return header;
}

// WebP: a RIFF file; dimensions from the VP8X, VP8 or VP8L chunk, EXIF in an EXIF chunk
// (usually after the image data).
async function webpHeader(reader) {
  let header = null;
  let orientation = null;
  const riffEnd = Math.min(reader.size, 8 + u32le(await reader.bytes(4, 4), 0));
  let offset = 12;
  for (let n = 0; n < MAX_SEGMENTS && offset + 8 <= riffEnd; n++) {
    const chunk = await reader.bytes(offset, 8);
    const type = fourcc(chunk, 0);
    const length = u32le(chunk, 4);
    if (header === null && ["VP8X", "VP8 ", "VP8L"].includes(type)) {
      const d = await reader.bytes(offset + 8, 10);
      if (d.length < 10) return null;
      if (type === "VP8X") header = { width: u24le(d, 4) + 1, height: u24le(d, 7) + 1 };
      if (type === "VP8 ") header = { width: u16le(d, 6) & 0x3fff, height: u16le(d, 8) & 0x3fff };
      if (type === "VP8L") {
        const bits = u32le(d, 1);
        header = { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
      }
    }
    if (type === "EXIF") {
      const data = await reader.bytes(offset + 8, length);
      const tiff = startsWithExifPrefix(data) ? 6 : 0;
      orientation = rewriteToOne(findOrientation(data, tiff, offset + 8));
    }
    offset += 8 + length + (length & 1);
  }
  return header && { ...header, orientation };
}

async function gifHeader(reader) {
  const b = await reader.bytes(6, 4);
  return b.length < 4 ? null : { width: u16le(b, 0), height: u16le(b, 2), orientation: null };
}

async function bmpHeader(reader) {
  const b = await reader.bytes(14, 12);
  if (b.length < 12) return null;
  if (u32le(b, 0) === 12) return { width: u16le(b, 4), height: u16le(b, 6), orientation: null };
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    width: Math.abs(view.getInt32(4, true)),
    height: Math.abs(view.getInt32(8, true)), // negative: rows stored top-down
    orientation: null,
  };
}

const READERS = {
  "image/jpeg": jpegHeader,
  "image/png": pngHeader,
  "image/webp": webpHeader,
  "image/gif": gifHeader,
  "image/bmp": bmpHeader,
};

/**
 * `{width, height, orientation, orientationEdit}` for the formats every browser decodes,
 * or null when the header is missing or broken. `orientation` is the EXIF value (1 when
 * absent); `orientationEdit`, when not null, is `{start, end, replacement}`: replacing
 * those bytes of the file makes browsers decode the pixels as stored.
 */
export async function readImageHeader(reader, mime) {
  const read = READERS[mime];
  const header = read ? await read(reader) : null;
  if (!header || !(header.width > 0 && header.height > 0)) return null;
  return {
    width: header.width,
    height: header.height,
    orientation: header.orientation?.value || 1,
    orientationEdit: header.orientation?.edit ?? null,
  };
}
