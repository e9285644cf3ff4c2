"""Use cases: what one request does, composing domain rules and store writes (no HTTP here)."""
