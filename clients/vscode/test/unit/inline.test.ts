import { executed, stub, Position } from "./vscodeStub";
import assert from "node:assert/strict";
import { test } from "node:test";
import { InlineStreaming } from "../../src/inline";

function documentOf(lines: string[], version = 1) {
  return {
    uri: { toString: () => "file:///a.py" },
    languageId: "python",
    version,
    getText(range: { start: Position; end: Position }): string {
      if (range.start.line !== range.end.line) throw new Error("single-line stub");
      return lines[range.start.line].slice(range.start.character, range.end.character);
    },
  };
}

const item = (text: string) => ({ insertText: text, command: { command: "ghostls.accepted", arguments: ["5:0"] } });

test("the first answer comes from the server; typing through and updates come from the cache", async () => {
  const inline = new InlineStreaming(() => true);
  let calls = 0;
  const next = async () => {
    calls += 1;
    return [item("return a")];
  };
  const call = (doc: ReturnType<typeof documentOf>, at: Position) =>
    inline.provide(doc as never, at as never, {} as never, {} as never, next as never);

  const doc = documentOf(["    "]);
  assert.deepEqual(((await call(doc, new Position(0, 4))) as { insertText: string }[])[0].insertText, "return a");
  assert.equal(calls, 1);

  stub.window.activeTextEditor = { document: doc };
  await inline.onUpdate({ uri: "file:///a.py", version: 1, position: { line: 0, character: 4 }, itemId: "5:0", text: "return a + b", done: false });
  assert.deepEqual(executed, ["editor.action.inlineSuggest.hide", "editor.action.inlineSuggest.trigger"]);

  const typed = documentOf(["    ret"], 2);
  const served = (await call(typed, new Position(0, 7))) as { insertText: string; command: { arguments: string[] } }[];
  assert.equal(served[0].insertText, "urn a + b");
  assert.deepEqual(served[0].command.arguments, ["5:0"]);
  assert.equal(calls, 1);

  const contradicted = documentOf(["    rex"], 3);
  await call(contradicted, new Position(0, 7));
  assert.equal(calls, 2);
});

test("nothing is asked while disabled", async () => {
  const inline = new InlineStreaming(() => false);
  const result = await inline.provide({} as never, {} as never, {} as never, {} as never, (() => assert.fail("asked")) as never);
  assert.equal(result, undefined);
});
