"""The web adapter: Flask app, Socket.IO events, HTTP API and pages around the pure game."""
