// Typed errors of the Kurucz deck reader and of ingest: each names the file, the line and what was expected.

/** Why a deck (or a whole file) was rejected. */
export type DeckErrorCode =
  | 'not-a-deck'
  | 'truncated'
  | 'too-few-numbers'
  | 'not-a-number'
  | 'non-finite'
  | 'non-positive'
  | 'bad-header'
  | 'empty-input'
  | 'io';

/**
 * A parse or validation error located in a source file. `message` reads
 * `<file>:<line>: <what was expected>`, e.g. `am10k2.dat.gz:1234: expected 72 depth rows, found 71`.
 */
export class DeckParseError extends Error {
  override readonly name = 'DeckParseError';
  constructor(
    readonly code: DeckErrorCode,
    /** File path (or label) the error refers to. */
    readonly file: string,
    /** 1-based line number, or 0 when the error concerns the whole file. */
    readonly line: number,
    /** What was expected / what went wrong, without the location prefix. */
    readonly detail: string,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${detail}`);
  }
}
