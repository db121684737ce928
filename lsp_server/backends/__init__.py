"""Backends: `GenerationRequest` → async stream of text chunks."""
