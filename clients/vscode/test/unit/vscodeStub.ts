/**
 * A minimal stand-in for the `vscode` module, installed before anything requires it,
 * so the parts of the extension that touch the API can run under `node --test`.
 */
import Module from "node:module";

export class Position {
  constructor(readonly line: number, readonly character: number) {}
  translate(lines: number, characters: number): Position {
    return new Position(this.line + lines, this.character + characters);
  }
  isBefore(other: Position): boolean {
    return this.line < other.line || (this.line === other.line && this.character < other.character);
  }
}

export class Range {
  constructor(readonly start: Position, readonly end: Position) {}
}

export class Uri {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export class TextEdit {
  constructor(readonly range: Range, readonly newText: string, readonly metadata?: unknown) {}
}

export class WorkspaceEdit {
  private readonly edits = new Map<string, { uri: Uri; edits: TextEdit[] }>();
  replace(uri: Uri, range: Range, newText: string, metadata?: unknown): void {
    const entry = this.edits.get(uri.toString()) ?? { uri, edits: [] };
    entry.edits.push(new TextEdit(range, newText, metadata));
    this.edits.set(uri.toString(), entry);
  }
  entries(): [Uri, TextEdit[]][] {
    return [...this.edits.values()].map((entry) => [entry.uri, entry.edits]);
  }
}

export class InlineCompletionItem {
  constructor(readonly insertText: string, readonly range?: Range, readonly command?: unknown) {}
}

export const executed: string[] = [];

export const stub = {
  Position,
  Range,
  Uri,
  TextEdit,
  WorkspaceEdit,
  InlineCompletionItem,
  InlineCompletionTriggerKind: { Invoke: 0, Automatic: 1 },
  window: { activeTextEditor: undefined as unknown },
  onCommand: undefined as ((command: string) => void) | undefined,
  commands: {
    executeCommand: async (command: string) => {
      executed.push(command);
      stub.onCommand?.(command);
      return undefined;
    },
  },
};

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load };
const original = loader._load;
loader._load = function (request: string, parent: unknown, isMain: boolean) {
  return request === "vscode" ? stub : original.call(this, request, parent, isMain);
};

/** A text document of `lines` (single-line ranges only), as the middleware reads one. */
export function documentOf(lines: string[], version = 1, uri = "file:///a.py") {
  return {
    uri: { toString: () => uri },
    languageId: "python",
    version,
    getText(range: { start: Position; end: Position }): string {
      if (range.start.line !== range.end.line) throw new Error("single-line stub");
      return lines[range.start.line].slice(range.start.character, range.end.character);
    },
  };
}
