"""The captions service: accepts ACS's real-time transcription WebSocket for a captioned call (aiohttp)."""
