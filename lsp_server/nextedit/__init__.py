"""Next-edit suggestions: the edit the user is about to make, anywhere near the cursor."""
