"""Asyncio SDK for the VoIPstudio History API."""
