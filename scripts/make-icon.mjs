// Draws media/icon.png (128×128, the Marketplace and Extensions view icon) from the same shapes as
// media/rewardlens.svg: a lens, its handle and a blue reward curve, on a dark rounded square. Written in
// plain Node (zlib for the PNG stream) because this machine has no image tool; the shapes are signed
// distances, supersampled 4×4 per pixel for smooth edges. Run `node scripts/make-icon.mjs` after a change.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

const SIZE = 128;
const SUB = 4;
const BACKGROUND = [0x1f, 0x26, 0x33];
const GREY = [0xc5, 0xcb, 0xd3];
const BLUE = [0x37, 0x94, 0xff];

/** Distance from p to the segment a–b. */
function segment(px, py, ax, ay, bx, by) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

/** Layers bottom to top, in the SVG's 16-unit space scaled to 128: each returns true where it covers (x, y). */
const s = SIZE / 16;
const curve = [
  [4.5, 7.5],
  [6, 5.5],
  [7.5, 7],
  [8.7, 5],
];
const layers = [
  { colour: BACKGROUND, covers: (x, y) => roundedSquare(x, y, 0, SIZE, 22) },
  { colour: GREY, covers: (x, y) => Math.abs(Math.hypot(x - 6.5 * s, y - 6.5 * s) - 4.5 * s) <= 0.75 * s },
  { colour: GREY, covers: (x, y) => segment(x, y, 10 * s, 10 * s, 13.8 * s, 13.8 * s) <= 1.0 * s },
  { colour: BLUE, covers: (x, y) => curve.slice(1).some(([bx, by], i) => segment(x, y, curve[i][0] * s, curve[i][1] * s, bx * s, by * s) <= 0.65 * s) },
];

function roundedSquare(x, y, lo, hi, r) {
  const cx = Math.max(lo + r, Math.min(hi - r, x));
  const cy = Math.max(lo + r, Math.min(hi - r, y));
  return x >= lo && x <= hi && y >= lo && y <= hi && Math.hypot(x - cx, y - cy) <= r;
}

const rows = [];
for (let py = 0; py < SIZE; py++) {
  const row = Buffer.alloc(1 + SIZE * 4); // filter byte 0, then RGBA
  for (let px = 0; px < SIZE; px++) {
    let r = 0,
      g = 0,
      b = 0,
      a = 0;
    for (let sy = 0; sy < SUB; sy++) {
      for (let sx = 0; sx < SUB; sx++) {
        const x = px + (sx + 0.5) / SUB;
        const y = py + (sy + 0.5) / SUB;
        let colour;
        for (const layer of layers) if (layer.covers(x, y)) colour = layer.colour;
        if (colour) {
          r += colour[0];
          g += colour[1];
          b += colour[2];
          a += 1;
        }
      }
    }
    const n = SUB * SUB;
    // Colours are averaged over covered samples only, alpha over all: edges fade instead of darkening.
    row.set(a ? [Math.round(r / a), Math.round(g / a), Math.round(b / a), Math.round((255 * a) / n)] : [0, 0, 0, 0], 1 + px * 4);
  }
  rows.push(row);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
const out = join(import.meta.dirname, '..', 'media', 'icon.png');
writeFileSync(out, png);
console.log(`${out}: ${png.length} bytes`);
