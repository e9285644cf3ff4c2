"""Security tests: the authorizer and what error answers never reveal."""
