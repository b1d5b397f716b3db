"""The HTTP API: how other systems and web pages reach the cases (``api.app.create_app``)."""
