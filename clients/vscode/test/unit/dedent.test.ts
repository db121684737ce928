import { documentOf, executed, stub, Position, Range } from "./vscodeStub";
import assert from "node:assert/strict";
import { test } from "node:test";
import { InlineStreaming } from "../../src/inline";
import { fromLineStart, lineStartText } from "../../src/streamCache";

/**
 * A suggestion less indented than the line auto-indent left (`return n` one level out
 * of a loop's body): the server's item replaces the line from its start (its text the
 * model's indentation, then the suggestion). The middleware keeps the suggestion after
 * the cursor in its cache and builds the same shape of item from it.
 */

const loopDocument = (lines: string[], version = 1) => documentOf(lines, version, "file:///loop.py");

type Item = { insertText: string; range: Range; command: { arguments: string[] } };
const token = { isCancellationRequested: false };
const command = { command: "ghostls.accepted", arguments: ["7:0"] };

test("fromLineStart: the suggestion after the cursor and the indentation it removes", () => {
  assert.deepEqual(fromLineStart("        ", "    return n"), { text: "return n", dedent: 4 });
  assert.deepEqual(fromLineStart("        r", "    return n"), { text: "eturn n", dedent: 4 });
  assert.deepEqual(fromLineStart("        ", "else:\n    y = 1"), { text: "else:\n    y = 1", dedent: 8 });
  assert.equal(fromLineStart("    x", "    y = 1"), undefined, "rewrites what was typed");
  assert.equal(fromLineStart("    ", "        z"), undefined, "adds indentation: not this shape");
  assert.equal(lineStartText("        re", 4, "turn n"), "    return n");
  assert.equal(lineStartText("  re", 4, "turn n"), undefined);
});

test("a dedenting item: shown as the server sent it, typed through and updated from the cache", async () => {
  const inline = new InlineStreaming(() => true);
  let asked = 0;
  const next = async () => {
    asked += 1;
    return [{ insertText: "    return n", range: new Range(new Position(4, 0), new Position(4, 8)), command }];
  };
  const lines = ["def f(xs):", "    n = 0", "    for x in xs:", "        n += x", "        "];
  const call = (doc: ReturnType<typeof loopDocument>, at: Position) =>
    inline.provide(doc as never, at as never, { triggerKind: 1 } as never, token as never, next as never);

  const first = (await call(loopDocument(lines), new Position(4, 8))) as Item[];
  assert.equal(first[0].insertText, "    return n");
  assert.deepEqual([first[0].range.start.character, first[0].range.end.character], [0, 8]);
  assert.deepEqual(inline.cache.get("file:///loop.py")?.dedent, 4);
  assert.equal(inline.cache.get("file:///loop.py")?.text, "return n");

  // The stream goes on: updates carry the item's range and its text from the line's start.
  stub.window.activeTextEditor = { document: loopDocument(lines) };
  executed.length = 0;
  const update = {
    uri: "file:///loop.py",
    version: 1,
    position: { line: 4, character: 8 },
    itemId: "7:0",
    text: "    return n * 2",
    done: true,
    range: { start: { line: 4, character: 0 }, end: { line: 4, character: 8 } },
  };
  await inline.onUpdate(update);
  assert.equal(inline.cache.get("file:///loop.py")?.text, "return n * 2");
  assert.equal(inline.cache.get("file:///loop.py")?.replace, 0);

  // `r` typed: served from the cache, over the line from its start, `r` included.
  const typed = [...lines.slice(0, 4), "        r"];
  const served = (await call(loopDocument(typed, 2), new Position(4, 9))) as Item[];
  assert.equal(asked, 1);
  assert.equal(served[0].insertText, "    return n * 2");
  assert.deepEqual([served[0].range.start.character, served[0].range.end.character], [0, 9]);
  assert.deepEqual(served[0].command.arguments, ["7:0"]);
});
