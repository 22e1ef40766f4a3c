"""Lectern: a learning management system core."""
