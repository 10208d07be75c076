"""Shared code of the incident-websocket Lambda handlers (standard library + boto3 only)."""
