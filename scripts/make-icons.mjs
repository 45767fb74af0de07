#!/usr/bin/env node
// Draws the tray icons into resources/icons/ (committed; rerun after changing
// a shape or colour): one shape per state, so the monochrome macOS template
// images stay distinguishable without colour.
//   idle: a ring   starting: a ring with a dot   serving: a disc
//   error: a disc with "!" cut out   unreachable: a ring struck through
// Each state as <state>.png (16 px) and <state>@2x.png (32 px) in colour, and
// <state>Template.png / <state>Template@2x.png in black for macOS's menu bar
// (Electron treats a name ending in "Template" as a template image and picks
// the @2x file on HiDPI screens by itself). Plus app.png (512 px), the
// application icon electron-builder converts for each platform.
// A tiny PNG encoder (RGBA, zlib) and 4x4 supersampling for smooth edges.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const OUT = fileURLToPath(new URL('../resources/icons/', import.meta.url));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
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
/** rgba: Uint8Array of size*size*4. */
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, y * size * 4, size * 4).copy(raw, y * (size * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// Shapes in unit coordinates (0..1, y down): is the point inked?
const dist = (x, y, cx, cy) => Math.hypot(x - cx, y - cy);
const ring = (x, y) => {
  const r = dist(x, y, 0.5, 0.5);
  return r <= 0.44 && r >= 0.3;
};
const disc = (x, y) => dist(x, y, 0.5, 0.5) <= 0.44;
const bang = (x, y) => (Math.abs(x - 0.5) <= 0.065 && y >= 0.2 && y <= 0.6) || dist(x, y, 0.5, 0.75) <= 0.075;
function segment(x, y, ax, ay, bx, by) {
  const t = Math.max(0, Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)));
  return dist(x, y, ax + t * (bx - ax), ay + t * (by - ay));
}
const SHAPES = {
  idle: ring,
  starting: (x, y) => ring(x, y) || dist(x, y, 0.5, 0.5) <= 0.14,
  serving: disc,
  error: (x, y) => disc(x, y) && !bang(x, y),
  unreachable: (x, y) => ring(x, y) || (disc(x, y) && segment(x, y, 0.14, 0.86, 0.86, 0.14) <= 0.07),
};
const COLOURS = {
  idle: [0x8a, 0x8f, 0x98],
  starting: [0xf0, 0xa0, 0x20],
  serving: [0x22, 0xa5, 0x5b],
  error: [0xe0, 0x44, 0x3e],
  unreachable: [0x8a, 0x8f, 0x98],
};

function draw(size, inked, [r, g, b]) {
  const out = new Uint8Array(size * size * 4);
  const N = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < N; sy++) for (let sx = 0; sx < N; sx++) if (inked((px + (sx + 0.5) / N) / size, (py + (sy + 0.5) / N) / size)) hits++;
      const i = (py * size + px) * 4;
      out[i] = r;
      out[i + 1] = g;
      out[i + 2] = b;
      out[i + 3] = Math.round((255 * hits) / (N * N));
    }
  }
  return out;
}

mkdirSync(OUT, { recursive: true });
for (const [state, shape] of Object.entries(SHAPES)) {
  for (const [suffix, size] of [['', 16], ['@2x', 32]]) {
    writeFileSync(join(OUT, `${state}${suffix}.png`), png(size, draw(size, shape, COLOURS[state])));
    writeFileSync(join(OUT, `${state}Template${suffix}.png`), png(size, draw(size, shape, [0, 0, 0])));
  }
}
// The application icon: the serving disc with a white berth mark (a ring) inside.
const appIcon = (x, y) => disc(x, y);
const appPixels = draw(512, appIcon, COLOURS.serving);
const mark = draw(512, (x, y) => {
  const r = dist(x, y, 0.5, 0.5);
  return r <= 0.26 && r >= 0.17;
}, [255, 255, 255]);
for (let i = 0; i < appPixels.length; i += 4) {
  const a = mark[i + 3] / 255;
  for (let c = 0; c < 3; c++) appPixels[i + c] = Math.round(appPixels[i + c] * (1 - a) + 255 * a);
}
writeFileSync(join(OUT, 'app.png'), png(512, appPixels));
console.log(`wrote the tray icons and app.png into ${OUT}`);
