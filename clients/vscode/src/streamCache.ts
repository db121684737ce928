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

/** How many characters of the cursor's line a `range` replaces (0 for an insert). */
export function replacedChars(range: Range | undefined): number {
  if (!range || range.end.line !== range.start.line) return 0;
  return Math.max(0, range.end.character - range.start.character);
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
    const replace = replacedChars(update.range);
    const changed =
      entry.text !== update.text || entry.done !== update.done || (entry.replace ?? 0) !== replace;
    entry.text = update.text;
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
