"""One module per LSP method or method family; `edge/server.py` registers them.

Handlers are thin. Each takes a snapshot of what it needs before its first `await`
(document text and version, settings), calls the core, and turns the outcome into
exactly one response. A result computed for an older document version is answered
with `ContentModified`, never shown against the new text.
"""
