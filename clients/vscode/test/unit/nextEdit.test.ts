import "./vscodeStub";
import assert from "node:assert/strict";
import { test } from "node:test";
import { nextIndex } from "../../src/nextEdit";

test("jump: the next edit after the cursor, wrapping to the first", () => {
  const starts = [
    { line: 3, character: 8 },
    { line: 4, character: 10 },
    { line: 5, character: 15 },
  ];
  assert.equal(nextIndex(starts, { line: 2, character: 15 }), 0);
  assert.equal(nextIndex(starts, { line: 3, character: 8 }), 1); // at an edit: the one after it
  assert.equal(nextIndex(starts, { line: 4, character: 11 }), 2);
  assert.equal(nextIndex(starts, { line: 9, character: 0 }), 0);
  assert.equal(nextIndex([], { line: 0, character: 0 }), -1);
});
