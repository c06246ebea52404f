"""The test suite's database backend: PostgreSQL, whose flush may TRUNCATE the guarded tables."""
