"""Tables, sessions, migrations, the unit of work, the hash-chained timeline, files by content hash, Redis."""
