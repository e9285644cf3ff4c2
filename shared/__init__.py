"""Code every function shares: api (HTTP plumbing), models, domain (pure rules), store (DynamoDB)."""
