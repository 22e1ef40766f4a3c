"""xAPI: statements for what learners do, sent to each institution's learning record store."""
