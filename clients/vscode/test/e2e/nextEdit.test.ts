/**
 * Next-edit suggestions in a real VS Code (code-server in headless Chromium), against
 * the real ghostls server and the fake backend: after a rename the other uses are shown
 * (struck through, the new name beside), Tab jumps to the next one, Tab again applies
 * them all. Its own code-server instance; screenshots in .e2e/screenshots/next-edit-*.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { CodeServer, extensionRoot, FakeBackend, fakeBackendSettings, freshWorkspace, ghostTextOn, python, waitFor } from "./harness";

const SOURCE = "import math\n\ndef scale(x, factor):\n    y = x * factor\n    print(x, math.pi)\n    return y + x\n";
const RENAMED = SOURCE.replace(/\bx\b/g, "value");
const shots = path.join(extensionRoot, ".e2e", "screenshots");

let backend: FakeBackend;
let vscode: CodeServer;
let page: Page;
let workspace: string;

async function shot(name: string): Promise<void> {
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `next-edit-${name}.png`) });
}

/** Text decorated as struck through, and the text decorations add after ranges. */
async function decorations(): Promise<{ struck: string[]; added: string[] }> {
  return page.evaluate(() => {
    const struck: string[] = [];
    const added: string[] = [];
    for (const span of Array.from(document.querySelectorAll(".monaco-editor .view-lines span span"))) {
      const style = getComputedStyle(span);
      if (style.textDecorationLine.includes("line-through")) struck.push(span.textContent ?? "");
      const content = getComputedStyle(span, "::after").content;
      if (content && content !== "none" && content !== "normal") added.push(content.replace(/^"|"$/g, ""));
      if (span.className.includes("ced-") && !style.textDecorationLine.includes("line-through") && span.textContent) {
        added.push(span.textContent);
      }
    }
    return { struck, added };
  });
}

const ghostText = (): Promise<string> => ghostTextOn(page);

async function cursor(): Promise<string> {
  return (await page.locator(".statusbar-item:has-text('Ln ')").first().textContent())?.trim() ?? "";
}

describe("ghostls next edits in VS Code (code-server)", () => {
  before(async () => {
    assert.ok(fs.existsSync(python), `${python} missing: run scripts/setup.sh`);
    const { root, workspace: project } = freshWorkspace("nextedit");
    workspace = project;
    fs.writeFileSync(path.join(workspace, "geo.py"), SOURCE);
    const window = `${RENAMED.replace(/\n$/, "")}\n<|file_sep|>`;
    backend = await FakeBackend.start({ replies: [{ text: window, when: "<|file_sep|>updated/" }, { text: "" }] });
    vscode = await CodeServer.start(
      root,
      workspace,
      fakeBackendSettings(backend.url, "fake-coder-e2e", { "ghostls.nextEdit.suggest": true, "ghostls.nextEdit.debounceMs": 100 }),
    );
    page = vscode.page;
    const row = page.locator('.monaco-list-row[aria-label*="geo.py"], .monaco-list-row:has-text("geo.py")').first();
    await row.waitFor({ timeout: 60_000 });
    await row.click();
    await page.locator(".monaco-editor .view-lines").first().waitFor();
    await page.locator('.statusbar-item:has-text("fake-coder-e2e")').first().waitFor({ timeout: 60_000 });
  });

  after(async () => {
    await vscode?.stop();
    backend?.stop();
  });

  it("shows the other uses after a rename, jumps to them and applies them", async () => {
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+Home");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    for (let i = 0; i < 10; i++) await page.keyboard.press("ArrowRight");
    await page.keyboard.press("Shift+ArrowRight");
    await page.keyboard.type("value");
    await waitFor(async () => (await decorations()).struck.length === 3, 30_000, "three struck-through uses", async () =>
      JSON.stringify(await decorations()),
    );
    const shown = await decorations();
    assert.deepEqual(shown.struck, ["x", "x", "x"]);
    assert.ok(shown.added.filter((text) => text.includes("value")).length >= 3, JSON.stringify(shown));
    await shot("1-shown");

    await page.keyboard.press("Tab");
    await waitFor(async () => (await cursor()).startsWith("Ln 4, Col 9"), 10_000, "the jump to line 4", cursor);
    await shot("2-jumped");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Control+S");
    const file = path.join(workspace, "geo.py");
    await waitFor(() => fs.readFileSync(file, "utf8") === RENAMED, 10_000, "the applied edits in the saved file", async () =>
      fs.readFileSync(file, "utf8"),
    );
    assert.equal((await decorations()).struck.length, 0);
    await shot("3-applied");
  });

  it("offers an insertion at the cursor as ghost text, which Tab accepts", async () => {
    const typed = RENAMED.replace("    y = value * factor", "    y = value * factor +");
    const window = `${typed.replace("factor +", "factor + 1").replace(/\n$/, "")}\n<|file_sep|>`;
    await backend.script({ replies: [{ text: window, when: "<|file_sep|>updated/" }, { text: "" }] });
    await page.keyboard.press("Control+Home");
    for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowDown");
    await page.keyboard.press("End");
    await page.keyboard.type(" +");
    await waitFor(async () => (await ghostText()) === "1", 30_000, "the insertion as ghost text", ghostText);
    assert.equal((await decorations()).struck.length, 0);
    await shot("4-at-cursor");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Control+S");
    const file = path.join(workspace, "geo.py");
    const expected = typed.replace("factor +", "factor + 1");
    await waitFor(() => fs.readFileSync(file, "utf8") === expected, 10_000, "the accepted insertion", async () =>
      fs.readFileSync(file, "utf8"),
    );
  });
});
