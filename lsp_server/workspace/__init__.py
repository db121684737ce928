"""The one mutable store (open documents, syntax trees, recent edits, ignore rules)
and the frozen snapshot a request takes of it."""
