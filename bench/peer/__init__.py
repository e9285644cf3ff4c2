"""The peer of `cold-start-peer`: `GET /v1/me` as a FastAPI app behind Mangum would serve it."""
