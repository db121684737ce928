/**
 * The VS Code copy of typing-through agrees with the server and ghost.lua: the shared
 * case table tests/data/typing_through_cases.json, read by all three test suites.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { StreamCache } from "../../src/streamCache";

const repo = path.resolve(__dirname, "../../../../..");

interface Case {
  name: string;
  suggestion: string;
  typed: string;
  remaining: string | null;
  exceptions?: Record<string, { remaining: string | null; why: string }>;
}

/** Where `typed` ends when typed at line 3, column 4. */
function after(typed: string): { line: number; character: number } {
  const lines = typed.split("\n");
  return lines.length === 1
    ? { line: 3, character: 4 + typed.length }
    : { line: 3 + lines.length - 1, character: lines[lines.length - 1].length };
}

test("StreamCache.lookup answers every case of the shared typing-through table", () => {
  const table = JSON.parse(fs.readFileSync(path.join(repo, "tests", "data", "typing_through_cases.json"), "utf8"));
  const cases: Case[] = table.cases;
  assert.ok(cases.length >= 10);
  for (const c of cases) {
    const expected = c.exceptions?.["StreamCache"]?.remaining ?? c.remaining;
    const cache = new StreamCache();
    cache.remember({ uri: "u", version: 1, position: { line: 3, character: 4 }, itemId: "1", text: c.suggestion, done: true });
    const got = cache.lookup("u", after(c.typed), c.typed)?.remaining ?? null;
    assert.equal(got, expected, c.name);
  }
});
