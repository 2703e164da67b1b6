"""The project database: SQLAlchemy 2.0 ORM over SQLite, with Alembic migrations."""
