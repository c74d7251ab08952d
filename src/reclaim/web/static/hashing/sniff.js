// What a file is, from its first bytes. The name and `file.type` are not trusted: they
// come from the extension, and a renamed file must not be mistaken for a photo.

/** How many leading bytes identify() wants. */
export const SNIFF_BYTES = 64;

/**
 * `support` says who decodes an image: "browser" for formats every current browser
 * reads (a failure means the file is broken), "maybe" for formats only some do (HEIC
 * in Safari, JPEG XL, TIFF): there a failure only means "no PDQ in this browser".
 */
function image(mime, support = "browser") {
  return { kind: "image", mime, support };
}

function video(mime) {
  return { kind: "video", mime, support: "none" };
}

// ISO base media file format brands (the `ftyp` box) that mean a still image.
const IMAGE_BRANDS = new Map([
  ["avif", "image/avif"],
  ["avis", "image/avif"],
  ["heic", "image/heic"],
  ["heix", "image/heic"],
  ["heim", "image/heic"],
  ["heis", "image/heic"],
  ["hevc", "image/heic-sequence"],
  ["hevx", "image/heic-sequence"],
  ["mif1", "image/heif"],
  ["msf1", "image/heif-sequence"],
]);

function ascii(bytes, start, length) {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

function startsWith(bytes, signature, offset = 0) {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((byte, i) => bytes[offset + i] === byte);
}

function isoMedia(head) {
  const major = ascii(head, 8, 4);
  if (IMAGE_BRANDS.has(major)) return image(IMAGE_BRANDS.get(major), "maybe");
  if (major === "qt  ") return video("video/quicktime");
  if (major.startsWith("3g2")) return video("video/3gpp2");
  if (major.startsWith("3gp")) return video("video/3gpp");
  return video("video/mp4");
}

/** `{kind: "image" | "video", mime, support}` for known formats, else null. */
export function identify(head) {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return image("image/jpeg");
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return image("image/png");
  if (ascii(head, 0, 6) === "GIF87a" || ascii(head, 0, 6) === "GIF89a") return image("image/gif");
  if (ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 4) === "WEBP") return image("image/webp");
  if (ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 4) === "AVI ") return video("video/x-msvideo");
  const bmpInfoSize = head[14] | (head[15] << 8) | (head[16] << 16) | (head[17] << 24);
  if (ascii(head, 0, 2) === "BM" && [12, 40, 52, 56, 108, 124].includes(bmpInfoSize)) {
    return image("image/bmp");
  }
  if (ascii(head, 4, 4) === "ftyp") return isoMedia(head);
  // QuickTime files from old cameras can start without `ftyp`.
  if (["moov", "mdat", "wide", "free", "skip"].includes(ascii(head, 4, 4))) {
    return video("video/quicktime");
  }
  if (startsWith(head, [0xff, 0x0a]) || startsWith(head, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) {
    return image("image/jxl", "maybe");
  }
  if (["II*\0", "MM\0*"].includes(ascii(head, 0, 4))) return image("image/tiff", "maybe");
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) {
    return video(ascii(head, 0, head.length).includes("webm") ? "video/webm" : "video/x-matroska");
  }
  if (startsWith(head, [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11])) {
    return video("video/x-ms-asf");
  }
  if (startsWith(head, [0x46, 0x4c, 0x56, 0x01])) return video("video/x-flv");
  if (startsWith(head, [0, 0, 1, 0xba])) return video("video/mpeg");
  return null;
}
