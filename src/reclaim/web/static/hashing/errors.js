// Errors that hashFile() rejects with. The portal shows its own translated message for
// each `code`; `message` is English detail for logs and developers.

export const ErrorCode = Object.freeze({
  /** Not an image or video format we recognise (e.g. a text file renamed .jpg). */
  UNSUPPORTED: "unsupported",
  /** Claims to be an image every browser can read (JPEG, PNG, ...) but is broken. */
  UNDECODABLE: "undecodable",
  /** Over a size limit (the limits are options of hashFile). */
  TOO_LARGE: "too_large",
  /** The browser could not read the file (moved, deleted, or not on the device). */
  UNREADABLE: "unreadable",
  /** A bug or a browser failure, not the file's fault. */
  INTERNAL: "internal",
});

export class HashError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = "HashError";
    this.code = code;
  }
}

/** The error for a failed read of the file itself (`cause`: the browser's error). */
export function unreadable(cause) {
  const message = "The file could not be read; was it moved, deleted or changed?";
  return new HashError(ErrorCode.UNREADABLE, message, { cause });
}
