"""Pure rules of the domain: no boto3, no HTTP. Fast to test."""
