"""Next-edit suggestions: the edit the user is about to make, anywhere near the cursor.

The pure core (formats, prompt, history, answer, transport); `lsp_server.edge.next_edit`
serves it to the editor.
"""
