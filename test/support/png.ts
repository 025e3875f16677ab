/** What a test can check of a PNG without decoding its pixels: the signature and the IHDR chunk. */
export type PngHeader = { width: number; height: number; bitDepth: number; colourType: number };

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The IHDR of a PNG; throws unless the bytes start with the PNG signature and an IHDR chunk. */
export function pngHeader(bytes: Buffer): PngHeader {
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(SIGNATURE))
    throw new Error("not a PNG: bad signature");
  // The first chunk must be IHDR, 13 bytes long: width, height (big-endian), depth, colour type...
  if (bytes.readUInt32BE(8) !== 13 || bytes.toString("latin1", 12, 16) !== "IHDR") {
    throw new Error("not a PNG: the first chunk is not IHDR");
  }
  return {
    width: bytes.readUInt32BE(16),
    height: bytes.readUInt32BE(20),
    bitDepth: bytes.readUInt8(24),
    colourType: bytes.readUInt8(25),
  };
}
