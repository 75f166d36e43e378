"""The Socket.IO side: events in, what each client is sent, and what crosses between processes."""
