// Chunked transfer coding (RFC 9112 §7.1), decoded as bytes arrive. Data comes
// out as views into the input, so a chunk of tokens costs no copy; extensions
// and trailers are read and dropped, as a proxy that re-frames may do. A push
// that was nothing but whole chunks, framed as Berth would frame them, says so
// (`wholeChunks`): a proxy can then send those very bytes on instead of framing
// their data again.

const enum S {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailer,
  TrailerLine,
  TrailerLf,
  EndLf,
  Done,
}

export class ChunkedDecoder {
  private state = S.Size;
  private size = 0;
  private digits = 0;
  private sawDigit = false;
  private left = 0;
  /** This push's input could be re-sent as is: see wholeChunks. */
  private canonical = false;

  get done(): boolean {
    return this.state === S.Done;
  }

  /**
   * Decodes `buf`, appending the data it carries to `out`. Returns how many
   * bytes of `buf` belong to this message (less than its length only once
   * done). Throws on a malformed stream.
   */
  push(buf: Buffer, out: Buffer[]): number {
    let i = 0;
    const n = buf.length;
    // Starts on a chunk's first size digit; an extension, a leading zero or an
    // upper-case digit clears it (a size line must read as Berth writes one).
    this.canonical = this.state === S.Size && !this.sawDigit;
    while (i < n && this.state !== S.Done) {
      switch (this.state) {
        case S.Size: {
          const c = buf[i]!;
          const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (d >= 0) {
            if ((d === 0 && this.size === 0) || c >= 65 && c <= 70) this.canonical = false;
            // Leading zeros are allowed in any number; 12 significant digits are plenty.
            if ((this.size > 0 || d > 0) && ++this.digits > 12) throw new Error('chunk size too large');
            this.size = this.size * 16 + d;
            this.sawDigit = true;
          } else if (!this.sawDigit) throw new Error('bad chunk size');
          else if (c === 13) this.state = S.SizeLf;
          else if (c === 59 || c === 32 || c === 9) {
            this.state = S.Ext;
            this.canonical = false;
          }
          else throw new Error('bad chunk size');
          i++;
          break;
        }
        case S.Ext:
          if (buf[i] === 13) this.state = S.SizeLf;
          i++;
          break;
        case S.SizeLf:
          if (buf[i++] !== 10) throw new Error('bad chunk size line');
          this.left = this.size;
          this.state = this.size === 0 ? S.Trailer : S.Data;
          this.size = 0;
          this.digits = 0;
          this.sawDigit = false;
          break;
        case S.Data: {
          const take = Math.min(this.left, n - i);
          out.push(buf.subarray(i, i + take));
          i += take;
          this.left -= take;
          if (this.left === 0) this.state = S.DataCr;
          break;
        }
        case S.DataCr:
          if (buf[i++] !== 13) throw new Error('chunk data overran its size');
          this.state = S.DataLf;
          break;
        case S.DataLf:
          if (buf[i++] !== 10) throw new Error('chunk data overran its size');
          this.state = S.Size;
          break;
        case S.Trailer:
          // Either the final CRLF or a trailer field line.
          this.state = buf[i++] === 13 ? S.EndLf : S.TrailerLine;
          break;
        case S.TrailerLine:
          if (buf[i++] === 13) this.state = S.TrailerLf;
          break;
        case S.TrailerLf:
          if (buf[i++] !== 10) throw new Error('bad trailer line');
          this.state = S.Trailer;
          break;
        case S.EndLf:
          if (buf[i++] !== 10) throw new Error('bad end of chunked body');
          this.state = S.Done;
          break;
      }
    }
    return i;
  }

  /**
   * The last push's input was one or more whole data chunks and nothing else:
   * it began and ended between chunks, held no last chunk, and every size line
   * was lower-case hex without leading zeros or extensions. Those bytes are
   * then a valid chunked body on their own, carrying exactly the data the push
   * gave out.
   */
  get wholeChunks(): boolean {
    return this.canonical && this.state === S.Size && !this.sawDigit;
  }
}
