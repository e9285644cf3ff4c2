"""Pydantic request and response models; JSON names are camelCase."""
