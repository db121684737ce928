/** Ask the real server, over stdio, whether it offers an executeCommand command. */
import { spawn } from "node:child_process";
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter } from "vscode-languageserver-protocol/node";
import { repo } from "./harness";

export async function serverOffersCommand(python: string, command: string): Promise<boolean> {
  const child = spawn(python, ["-m", "lsp_server", "serve"], { cwd: repo, stdio: ["pipe", "pipe", "ignore"] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.listen();
  try {
    const result = await connection.sendRequest("initialize", {
      processId: process.pid,
      rootUri: null,
      capabilities: { textDocument: { inlineCompletion: {} } },
      initializationOptions: { backend: { kind: "openai", url: "http://127.0.0.1:9" } },
    });
    const commands: string[] = (result as { capabilities?: { executeCommandProvider?: { commands?: string[] } } })
      .capabilities?.executeCommandProvider?.commands ?? [];
    return commands.includes(command);
  } finally {
    connection.dispose();
    child.kill();
  }
}

/** Ask the real server a request with no params: false when it has no such method. */
export async function serverAnswers(python: string, method: string): Promise<boolean> {
  const child = spawn(python, ["-m", "lsp_server", "serve"], { cwd: repo, stdio: ["pipe", "pipe", "ignore"] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.listen();
  try {
    await connection.sendRequest("initialize", {
      processId: process.pid,
      rootUri: null,
      capabilities: {},
      initializationOptions: { backend: { kind: "openai", url: "http://127.0.0.1:9" } },
    });
    await connection.sendRequest(method, {});
    return true;
  } catch (error) {
    if ((error as { code?: number }).code === -32601) return false;
    throw error;
  } finally {
    connection.dispose();
    child.kill();
  }
}
