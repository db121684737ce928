"""Code actions: explain, fix, document, write tests, edit with an instruction.

`catalogue` lists what fits a range (instantly, no model call); `target` finds the
code an action works on; `prompts` holds the chat templates as data; `reply` cleans
the model's answer; `testfiles` knows where tests live per language; `edits` turns a
cleaned answer into an `ActionEdit`; `runner` streams, cancels and redirects runs.
No lsprotocol or pygls here: `lsp_server.edge.actions` talks to the editor.
"""
