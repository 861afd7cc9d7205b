"""The API base every service builds on: app factory, middleware, error bodies,
validation, OpenAPI generation, policy, version documents, and the composite app.
"""
