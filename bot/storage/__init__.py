"""The only place that speaks SQL: the Store, its schema and migrations, and its value types."""
