"""Context stage: documents and cursor → `CursorContext`."""
