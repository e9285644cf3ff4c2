"""Black-box tests over HTTP against the local stack, and the stack's own parts."""
