"""Completion stage: lifecycle (debounce, newest wins, typing-through) and post-processing."""
