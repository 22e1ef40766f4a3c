"""The student and admin web apps: server-rendered pages that talk to the JSON API."""
