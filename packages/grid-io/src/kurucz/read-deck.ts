// Streaming reader of Kurucz model decks: single-model ATLAS12 files and multi-model ATLAS9 grids, plain or gzip.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { createGunzip } from 'node:zlib';
import { sha256File } from '../dataset/content-hash.js';
import { DeckParseError } from './errors.js';
import {
  POSITIVE_DEFINITE_COLUMNS,
  type AbundanceTableEntry,
  type ColumnFormat,
  type KuruczDeck,
} from './deck.js';

/** One outcome of reading a deck: the deck, or the reason it was rejected. */
export type DeckResult = { ok: true; deck: KuruczDeck } | { ok: false; error: DeckParseError };

/** Options of the deck readers. */
export interface ReadDeckOptions {
  /** Name used in error messages and as `deck.source` (default: the file's base name for errors, the path for source). */
  label?: string;
  /** Reject negative/zero values in RHOX, T, P, XNE, ABROSS (default true). */
  checkPositive?: boolean;
  /** Receives the sha256 (hex) of the raw file bytes once the file was read to the end. */
  onSha256?: (hex: string) => void;
}

type State = 'idle' | 'header' | 'table' | 'rows' | 'tail';

/** What ATLAS punches after VTURB when READ DECK6 names only seven columns. */
const UNNAMED_EXTRAS = ['FLXCNV', 'VCONV', 'VELSND'];

const NUMBER_RE = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[EeDd][-+]?\d+)?/g;

/**
 * Line-driven parser. Feed it lines with {@link DeckLineParser.push}; it returns finished
 * decks (or errors). After an error it skips to the next `TEFF` card, so one bad model in a
 * grid file does not lose the others.
 */
export class DeckLineParser {
  private state: State = 'idle';
  private lineNo = 0;
  private deck: KuruczDeck | null = null;
  private rowsRead = 0;
  private nNumbers = 0;
  private readLine = 0;
  private count = 0;
  private sawAnyDeck = false;
  private skipping = false;

  constructor(
    private readonly source: string,
    private readonly label: string,
    private readonly checkPositive = true,
  ) {}

  /** Parse one line (without its newline). Returns the results completed by this line. */
  push(raw: string): DeckResult[] {
    this.lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const out: DeckResult[] = [];
    try {
      this.consume(line, out);
    } catch (err) {
      if (!(err instanceof DeckParseError)) throw err;
      out.push({ ok: false, error: err });
      this.deck = null;
      this.state = 'idle';
      this.skipping = true;
    }
    return out;
  }

  /** Lines pushed so far. */
  get linesRead(): number {
    return this.lineNo;
  }

  /**
   * Signal the end of input; returns the last deck or a truncation error. `damaged`: the input
   * ended early because the stream is damaged (the last model is kept when all its depth rows
   * were read; no "not a deck" report for what little was read).
   */
  end(damaged = false): DeckResult[] {
    const out: DeckResult[] = [];
    const at = damaged ? 'the damaged end of the stream' : 'end of file';
    if (this.deck) {
      if (this.state === 'rows') {
        out.push({
          ok: false,
          error: this.err(
            'truncated',
            this.lineNo + 1,
            `expected ${this.deck.nLayers} depth rows, found ${this.rowsRead} (${at})`,
          ),
        });
      } else if (this.state === 'tail') {
        out.push({ ok: true, deck: this.deck });
      } else {
        out.push({
          ok: false,
          error: this.err(
            'truncated',
            this.lineNo + 1,
            `expected a READ DECK6 card and depth rows, found ${at}`,
          ),
        });
      }
      this.deck = null;
    } else if (!this.sawAnyDeck && !this.skipping && !damaged) {
      out.push({
        ok: false,
        error: this.err(
          this.lineNo === 0 ? 'empty-input' : 'not-a-deck',
          0,
          this.lineNo === 0
            ? 'empty file: expected a Kurucz deck starting with a TEFF card'
            : 'no TEFF card found: not a Kurucz deck',
        ),
      });
    }
    this.state = 'idle';
    return out;
  }

  private err(code: DeckParseError['code'], line: number, detail: string): DeckParseError {
    return new DeckParseError(code, this.label, line, detail);
  }

  private consume(line: string, out: DeckResult[]): void {
    const trimmed = line.trim();
    const isTeff = trimmed.startsWith('TEFF');
    if (isTeff) {
      if (this.deck) {
        if (this.state === 'tail') out.push({ ok: true, deck: this.deck });
        else if (this.state === 'rows') {
          out.push({
            ok: false,
            error: this.err(
              'truncated',
              this.lineNo,
              `expected ${this.deck.nLayers} depth rows, found ${this.rowsRead}`,
            ),
          });
        } else {
          out.push({
            ok: false,
            error: this.err(
              'truncated',
              this.lineNo,
              'expected a READ DECK6 card and depth rows before the next TEFF card',
            ),
          });
        }
        this.deck = null;
      }
      this.skipping = false;
      this.startDeck(trimmed);
      return;
    }
    if (this.skipping) return;
    switch (this.state) {
      case 'idle':
        if (trimmed === '') return;
        throw this.err(
          'not-a-deck',
          this.lineNo,
          `expected a TEFF card, found "${trimmed.slice(0, 40)}": not a Kurucz deck`,
        );
      case 'header':
      case 'table':
        this.headerLine(line, trimmed);
        return;
      case 'rows':
        this.rowLine(trimmed);
        return;
      case 'tail':
        this.tailLine(trimmed);
        return;
    }
  }

  private startDeck(trimmed: string): void {
    const m = /^TEFF\s+(\S+)\s+GRAVITY\s+(\S+)\s*(.*)$/.exec(trimmed);
    const teff = m ? Number(m[1]) : NaN;
    const logg = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(teff) || !Number.isFinite(logg)) {
      throw this.err(
        'bad-header',
        this.lineNo,
        `expected "TEFF <K> GRAVITY <log g>", found "${trimmed.slice(0, 60)}"`,
      );
    }
    if (teff <= 0) throw this.err('non-positive', this.lineNo, `expected TEFF > 0, found ${m[1]}`);
    this.sawAnyDeck = true;
    this.deck = {
      source: this.source,
      line: this.lineNo,
      indexInFile: this.count++,
      teffK: teff,
      logg,
      lteFlag: m[3].trim(),
      title: '',
      opacityIfop: [],
      convection: null,
      turbulence: null,
      abundanceScale: 1,
      abundanceChange: new Map(),
      abundanceTable: null,
      columnNames: [],
      namedColumns: 0,
      nLayers: 0,
      columns: [],
      columnFormats: [],
      pradk: null,
      iterations: null,
      otherCards: [],
    };
    this.state = 'header';
  }

  private numbersOf(text: string, what: string): number[] {
    const out: number[] = [];
    for (const tok of text.trim().split(/\s+/)) {
      if (tok === '') continue;
      const v = Number(tok);
      if (Number.isNaN(v) || !Number.isFinite(v))
        throw this.err(
          /nan|inf/i.test(tok) ? 'non-finite' : 'not-a-number',
          this.lineNo,
          `expected numbers in ${what}, found "${tok}"`,
        );
      out.push(v);
    }
    return out;
  }

  private headerLine(line: string, trimmed: string): void {
    const d = this.deck!;
    if (trimmed === '') return;
    if (trimmed.startsWith('TITLE')) {
      d.title = line
        .slice(line.indexOf('TITLE') + 5)
        .replace(/\s+$/, '')
        .replace(/^ /, '');
      this.state = 'header';
    } else if (trimmed.startsWith('OPACITY')) {
      const rest = trimmed.replace(/^OPACITY\s+IFOP/, '');
      d.opacityIfop = this.numbersOf(rest, 'OPACITY IFOP');
      this.state = 'header';
    } else if (trimmed.startsWith('CONVECTION')) {
      const m = /^CONVECTION\s+(ON|OFF)\s+(\S+)(?:\s+TURBULENCE\s+(ON|OFF)\s*(.*))?$/.exec(trimmed);
      if (!m)
        throw this.err(
          'bad-header',
          this.lineNo,
          `expected "CONVECTION ON|OFF <l/H> [TURBULENCE ...]", found "${trimmed}"`,
        );
      const mlt = Number(m[2]);
      if (!Number.isFinite(mlt))
        throw this.err('not-a-number', this.lineNo, `expected a mixing-length ratio, found "${m[2]}"`);
      d.convection = { on: m[1] === 'ON', mixingLengthRatio: mlt };
      if (m[3]) d.turbulence = { on: m[3] === 'ON', params: this.numbersOf(m[4] ?? '', 'TURBULENCE') };
      this.state = 'header';
    } else if (trimmed.startsWith('ABUNDANCE TABLE')) {
      d.abundanceTable = [];
      this.state = 'table';
    } else if (trimmed.startsWith('ABUNDANCE')) {
      let rest = trimmed;
      const ms = /^ABUNDANCE\s+SCALE\s+(\S+)\s*(.*)$/.exec(rest);
      if (ms) {
        const s = Number(ms[1]);
        if (!Number.isFinite(s))
          throw this.err(
            'not-a-number',
            this.lineNo,
            `expected a number after ABUNDANCE SCALE, found "${ms[1]}"`,
          );
        if (s <= 0)
          throw this.err('non-positive', this.lineNo, `expected ABUNDANCE SCALE > 0, found ${ms[1]}`);
        d.abundanceScale = s;
        rest = ms[2];
      }
      if (rest.trim() !== '') {
        const mc = /^ABUNDANCE\s+CHANGE\s+(.*)$/.exec(rest.trim());
        if (!mc)
          throw this.err(
            'bad-header',
            this.lineNo,
            `expected "ABUNDANCE CHANGE Z value ...", found "${trimmed.slice(0, 60)}"`,
          );
        const nums = this.numbersOf(mc[1], 'ABUNDANCE CHANGE');
        if (nums.length % 2 !== 0)
          throw this.err(
            'too-few-numbers',
            this.lineNo,
            `expected (Z, abundance) pairs after ABUNDANCE CHANGE, found ${nums.length} numbers`,
          );
        for (let i = 0; i < nums.length; i += 2) d.abundanceChange.set(nums[i], nums[i + 1]);
      }
      this.state = 'header';
    } else if (trimmed.startsWith('READ DECK6')) {
      const m = /^READ\s+DECK6\s+(\d+)\s*(.*)$/.exec(trimmed);
      if (!m)
        throw this.err('bad-header', this.lineNo, `expected "READ DECK6 <N> <names>", found "${trimmed}"`);
      d.nLayers = Number(m[1]);
      if (d.nLayers < 2)
        throw this.err('bad-header', this.lineNo, `expected at least 2 depth layers, found ${m[1]}`);
      d.columnNames = m[2].split(/[\s,]+/).filter((s) => s !== '');
      d.namedColumns = d.columnNames.length;
      if (d.columnNames[0] !== 'RHOX')
        throw this.err(
          'bad-header',
          this.lineNo,
          `expected column names starting with RHOX, found "${m[2]}"`,
        );
      this.readLine = this.lineNo;
      this.rowsRead = 0;
      this.state = 'rows';
    } else if (this.state === 'table') {
      this.tableLine(trimmed);
    } else {
      d.otherCards.push(line.replace(/\s+$/, ''));
    }
  }

  private tableLine(trimmed: string): void {
    const d = this.deck!;
    const re = /(\d+)([A-Z][A-Za-z]?)\s*([-+]?\d*\.\d+)(?:\s+([-+]?\d*\.\d+))?/g;
    let m: RegExpExecArray | null;
    let any = false;
    while ((m = re.exec(trimmed)) !== null) {
      any = true;
      const entry: AbundanceTableEntry = {
        z: Number(m[1]),
        symbol: m[2],
        value: Number(m[3]),
        extra: m[4] !== undefined ? Number(m[4]) : null,
      };
      d.abundanceTable!.push(entry);
    }
    if (!any)
      throw this.err(
        'bad-header',
        this.lineNo,
        `expected ABUNDANCE TABLE entries like "26Fe -4.540 0.000", found "${trimmed.slice(0, 60)}"`,
      );
  }

  private rowLine(trimmed: string): void {
    const d = this.deck!;
    if (/^[A-Z]/.test(trimmed) || trimmed === '') {
      throw this.err('truncated', this.lineNo, `expected ${d.nLayers} depth rows, found ${this.rowsRead}`);
    }
    const toks = trimmed.split(/\s+/);
    let nums: number[] = new Array(toks.length);
    let n = 0;
    let runTogether = false;
    for (let i = 0; i < toks.length; i++) {
      const v = +toks[i];
      if (Number.isNaN(v) || v === Infinity || v === -Infinity) {
        const tok = toks[i];
        if (/nan|inf/i.test(tok))
          throw this.err(
            'non-finite',
            this.lineNo,
            `expected finite numbers in depth row ${this.rowsRead + 1}, found "${tok}"`,
          );
        const parts = tok.match(NUMBER_RE);
        if (!parts || parts.join('') !== tok)
          throw this.err(
            'not-a-number',
            this.lineNo,
            `expected numbers in depth row ${this.rowsRead + 1}, found "${tok}"`,
          );
        runTogether = true;
        for (const p of parts) nums[n++] = Number(p.replace(/[Dd]/, 'E'));
        continue;
      }
      nums[n++] = v;
    }
    if (runTogether) nums = nums.slice(0, n);
    if (this.rowsRead === 0) {
      if (n < d.namedColumns) {
        throw this.err(
          'too-few-numbers',
          this.lineNo,
          `expected at least ${d.namedColumns} numbers (${d.columnNames.join(',')}) in depth row 1, found ${n}`,
        );
      }
      this.nNumbers = n;
      for (let c = d.namedColumns; c < n; c++)
        d.columnNames.push(
          c >= 7 && c < 7 + UNNAMED_EXTRAS.length && d.namedColumns === 7
            ? UNNAMED_EXTRAS[c - 7]
            : `COL${c + 1}`,
        );
      d.columns = Array.from({ length: n }, () => new Array(d.nLayers));
      d.columnFormats = toks.map(() => ({ kind: 'F', decimals: 0, width: 0 }) as ColumnFormat);
      if (runTogether)
        d.columnFormats = nums.map(() => ({ kind: 'E', decimals: 3, width: 10 }) as ColumnFormat);
    } else if (n !== this.nNumbers) {
      throw this.err(
        'too-few-numbers',
        this.lineNo,
        `expected ${this.nNumbers} numbers in depth row ${this.rowsRead + 1}, found ${n}`,
      );
    }
    const layer = this.rowsRead;
    for (let c = 0; c < n; c++) d.columns[c][layer] = nums[c];
    if (!runTogether) {
      for (let c = 0; c < n; c++) {
        const tok = toks[c];
        const f = d.columnFormats[c];
        const e = tok.indexOf('E') >= 0 ? tok.indexOf('E') : tok.indexOf('e');
        const dot = tok.indexOf('.');
        if (e >= 0) {
          f.kind = 'E';
          const dec = dot >= 0 ? e - dot - 1 : 0;
          if (dec > f.decimals) f.decimals = dec;
        } else if (dot >= 0 && f.kind === 'F') {
          const dec = tok.length - dot - 1;
          if (dec > f.decimals) f.decimals = dec;
        }
        if (tok.length + 1 > f.width) f.width = tok.length + 1;
      }
    }
    if (this.checkPositive) {
      for (let c = 0; c < d.namedColumns; c++) {
        if (nums[c] <= 0 && POSITIVE_DEFINITE_COLUMNS.includes(d.columnNames[c])) {
          throw this.err(
            'non-positive',
            this.lineNo,
            `expected ${d.columnNames[c]} > 0 in depth row ${layer + 1}, found ${toks[c] ?? nums[c]}`,
          );
        }
      }
    }
    this.rowsRead++;
    if (this.rowsRead === d.nLayers) this.state = 'tail';
  }

  private tailLine(trimmed: string): void {
    const d = this.deck!;
    if (trimmed === '') return;
    if (trimmed.startsWith('PRADK')) {
      const v = Number(trimmed.slice(5).trim());
      if (!Number.isFinite(v))
        throw this.err(
          'not-a-number',
          this.lineNo,
          `expected a number after PRADK, found "${trimmed.slice(5).trim()}"`,
        );
      d.pradk = v;
    } else if (trimmed.startsWith('BEGIN')) {
      const m = /ITERATION\s+(\d+)/.exec(trimmed);
      d.iterations = m ? Number(m[1]) : null;
    } else if (/^[-+.\d]/.test(trimmed)) {
      throw this.err(
        'bad-header',
        this.lineNo,
        `expected ${d.nLayers} depth rows as stated on line ${this.readLine}, found more`,
      );
    } else {
      d.otherCards.push(trimmed);
    }
  }
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Stream the lines of a file (gzip detected from its magic bytes), hashing the raw bytes on the way.
 * The file is read once; only the current chunk is held in memory.
 */
async function* fileLines(path: string, hash: Hash | null, label: string): AsyncGenerator<string> {
  const gz = await isGzip(path);
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  let source: AsyncIterable<Buffer> = raw;
  if (gz) {
    if (hash) raw.on('data', (b) => hash.update(b as Buffer));
    const gunzip = createGunzip();
    raw.on('error', (e) => gunzip.destroy(e));
    source = raw.pipe(gunzip);
  }
  let rest = '';
  try {
    for await (const buf of source) {
      if (hash && !gz) hash.update(buf);
      const s = rest + buf.toString('latin1');
      let start = 0;
      let nl: number;
      while ((nl = s.indexOf('\n', start)) >= 0) {
        yield s.slice(start, nl);
        start = nl + 1;
      }
      rest = s.slice(start);
    }
  } catch (err) {
    raw.destroy();
    const code = (err as { code?: string }).code;
    if (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR')
      throw new DeckParseError('truncated', label, 0, `gzip stream is damaged or truncated (${code})`);
    throw new DeckParseError('io', label, 0, `cannot read file: ${(err as Error).message}`);
  }
  if (rest !== '') yield rest;
}

/**
 * Read every deck of a Kurucz file (single model or grid, plain or gzip), yielding each deck or the
 * reason it was rejected. The file is streamed once; a bad model does not stop the others.
 * Whole-file problems (not a deck, empty, damaged gzip) are yielded as one error.
 */
export async function* readDeckResults(path: string, opts: ReadDeckOptions = {}): AsyncGenerator<DeckResult> {
  const label = opts.label ?? basename(path);
  const parser = new DeckLineParser(path, label, opts.checkPositive ?? true);
  const hash = opts.onSha256 ? createHash('sha256') : null;
  try {
    for await (const line of fileLines(path, hash, label)) {
      const res = parser.push(line);
      for (const r of res) yield r;
    }
  } catch (err) {
    if (err instanceof DeckParseError) {
      if (parser.linesRead === 0) {
        yield { ok: false, error: err };
        return;
      }
      // A damaged stream (gzip cut short or corrupt): keep every model completed before the
      // damage — including the last one when all its depth rows were read — then report it.
      for (const r of parser.end(true)) yield r;
      yield {
        ok: false,
        error: new DeckParseError(
          err.code,
          err.file,
          0,
          `${err.detail} after line ${parser.linesRead}; the complete models before it were kept`,
        ),
      };
      if (opts.onSha256) opts.onSha256(await sha256File(path));
      return;
    }
    if ((err as { code?: string }).code === 'ENOENT' || (err as { code?: string }).code === 'EISDIR') {
      yield {
        ok: false,
        error: new DeckParseError('io', label, 0, `cannot read file: ${(err as Error).message}`),
      };
      return;
    }
    throw err;
  }
  for (const r of parser.end()) yield r;
  if (hash && opts.onSha256) opts.onSha256(hash.digest('hex'));
}

/** Read every deck of a file; throws the first {@link DeckParseError}. */
export async function* readDecks(path: string, opts: ReadDeckOptions = {}): AsyncGenerator<KuruczDeck> {
  for await (const r of readDeckResults(path, opts)) {
    if (!r.ok) throw r.error;
    yield r.deck;
  }
}

/** Parse decks from text already in memory (tests, small inputs); throws the first error. */
export function parseDecks(
  text: string,
  source = '<text>',
  opts: Omit<ReadDeckOptions, 'onSha256'> = {},
): KuruczDeck[] {
  return parseDeckResults(text, source, opts).map((r) => {
    if (!r.ok) throw r.error;
    return r.deck;
  });
}

/** Parse decks from text in memory, returning each deck or its rejection. */
export function parseDeckResults(
  text: string,
  source = '<text>',
  opts: Omit<ReadDeckOptions, 'onSha256'> = {},
): DeckResult[] {
  const parser = new DeckLineParser(source, opts.label ?? source, opts.checkPositive ?? true);
  const out: DeckResult[] = [];
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) out.push(...parser.push(line));
  out.push(...parser.end());
  return out;
}
