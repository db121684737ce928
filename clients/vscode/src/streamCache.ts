/**
 * The client side of streamed ghost text. The server answers an inline completion at
 * the first line and then sends `ghostls/inlineCompletionUpdate` with the WHOLE text
 * so far; this cache keeps that live text per document so VS Code's inline suggestion
 * can be re-triggered and answered from memory, with no new server round trip — also
 * while the user types characters that match the suggestion.
 */

export interface Pos {
  line: number;
  character: number;
}

export interface Live {
  uri: string;
  version: number; // the document version the request was for
  position: Pos; // where the suggestion starts
  itemId: string;
  text: string; // the whole suggestion so far
  done: boolean;
  // Characters after the cursor that the suggestion replaces (closing brackets or
  // quotes it typed again), from the item's or the last update's `range`.
  replace?: number;
  // Characters of the line's indentation before `position` that the suggestion removes
  // (`return x` one level out of the body auto-indent left the cursor in): the
  // server's item then replaces the line from its start, `text` stays what follows
  // the position (see `fromLineStart`).
  dedent?: number;
}

export interface Range {
  start: Pos;
  end: Pos;
}

export interface UpdateParams {
  uri: string;
  version: number;
  position: Pos;
  itemId: string;
  text: string;
  done: boolean;
  range?: Range;
}

/**
 * How many characters after `position` (the range's start when not given) a `range`
 * replaces (0 for an insert).
 */
export function replacedChars(range: Range | undefined, position?: Pos): number {
  if (!range || range.end.line !== range.start.line) return 0;
  const from = position && position.line === range.start.line ? Math.max(position.character, range.start.character) : range.start.character;
  return Math.max(0, range.end.character - from);
}

/**
 * An item whose range starts before the request's position on its line: `head` is the
 * line from the range's start to the position, `insertText` the item's text from the
 * range's start (the line so far with less indentation, then the suggestion). Gives
 * the suggestion after the position and the indentation it removes; undefined when
 * the item is not that (it rewrites what was typed).
 */
export function fromLineStart(head: string, insertText: string): { text: string; dedent: number } | undefined {
  const headIndent = head.length - head.replace(/^ +/, "").length;
  const itemIndent = insertText.length - insertText.replace(/^ +/, "").length;
  const typed = head.slice(headIndent);
  const rest = insertText.slice(itemIndent);
  if (itemIndent > headIndent || !rest.startsWith(typed)) return undefined;
  return { text: rest.slice(typed.length), dedent: headIndent - itemIndent };
}

/**
 * The item's text from the line's start for a suggestion that removes `dedent` of the
 * indentation of `lineHead` (the line up to the cursor); undefined when the line no
 * longer has that indentation.
 */
export function lineStartText(lineHead: string, dedent: number, suggestion: string): string | undefined {
  if (!lineHead.startsWith(" ".repeat(dedent))) return undefined;
  return lineHead.slice(dedent) + suggestion;
}

export class StreamCache {
  private readonly live = new Map<string, Live>();

  /** A fresh answer from the server replaces whatever the document had. */
  remember(entry: Live): void {
    this.live.set(entry.uri, { ...entry });
  }

  forget(uri: string): void {
    this.live.delete(uri);
  }

  get(uri: string): Live | undefined {
    return this.live.get(uri);
  }

  /** Apply an update; returns the entry when it changed what should be shown. */
  applyUpdate(update: UpdateParams): Live | undefined {
    const entry = this.live.get(update.uri);
    if (!entry || entry.itemId !== update.itemId || entry.version !== update.version) {
      return undefined; // for a suggestion no longer shown
    }
    const replace = replacedChars(update.range, update.position);
    // An item over the line's start (it dedents): `text` is the line so far less the
    // indentation removed, then the suggestion after the position.
    const start = update.range?.start;
    const head = start && start.line === update.position.line ? Math.max(0, update.position.character - start.character) : 0;
    const text = head > 0 ? update.text.slice(Math.max(0, head - (entry.dedent ?? 0))) : update.text;
    const changed =
      entry.text !== text || entry.done !== update.done || (entry.replace ?? 0) !== replace;
    entry.text = text;
    entry.done = update.done;
    entry.replace = replace;
    return changed ? entry : undefined;
  }

  /**
   * What remains to show at `position`, given `typed` = the document text between the
   * suggestion's start and `position`. Undefined when the user left the suggestion
   * (typed something else, moved before it) or typed all of it.
   */
  lookup(uri: string, position: Pos, typed: string): { entry: Live; remaining: string } | undefined {
    const entry = this.live.get(uri);
    if (!entry || before(position, entry.position)) return undefined;
    if (!entry.text.startsWith(typed) || typed.length >= entry.text.length) return undefined;
    return { entry, remaining: entry.text.slice(typed.length) };
  }
}

function before(a: Pos, b: Pos): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}
