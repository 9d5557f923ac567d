"""People: who uses the server (identities), the classes they belong to, teachers' accounts,
and the durable index of their pictures (SQLite in `data_dir`; docs/privacy.md)."""
