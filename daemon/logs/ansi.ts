// Removing terminal escape sequences, for the plain form of engine output that
// failure reasons, log files and searches use.

// CSI (`ESC [` params intermediates final: colours, cursor moves, erase),
// OSC (`ESC ]` ... BEL or ST: window titles, hyperlinks), DCS/SOS/PM/APC
// strings ending in ST, and two-byte escapes (`ESC (B`, `ESC =`, ...), plus
// the 8-bit CSI. Then any control character left, except tab.
const ESCAPES =
  /\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]/g;
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;

/** `s` without ANSI escape sequences and stray control characters. Returns `s` itself when clean. */
export function stripAnsi(s: string): string {
  // Fast path: almost every engine line has neither.
  if (!/[\x00-\x08\x0b-\x1f\x7f\x9b]/.test(s)) return s;
  return s.replace(ESCAPES, '').replace(CONTROLS, '');
}
