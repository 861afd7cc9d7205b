"""State: SQLAlchemy engines and sessions (:mod:`.engine`) and per-service Alembic
migrations (:mod:`.migration`). Each service owns its tables and its migration history,
so each can be pointed at its own database.
"""
