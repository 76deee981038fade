"""WebSocket connections, frames, delivery."""
