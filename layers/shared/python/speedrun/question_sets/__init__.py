"""Question sets: parse and validate uploads (JSON, CSV, the earlier array format, Open Trivia DB,
.xlsx workbooks), store them immutably.

Sign-on freezes a run's questions with `load_questions(owner, set_id)`.

Nothing is re-exported here: a handler imports the modules it uses, and pays for no others
at its cold start.
"""
