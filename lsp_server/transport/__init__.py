"""The pygls-facing transport: framing of bytes, the request queue, the JSON-RPC protocol."""
