"""The portal API under /api (issue 11): declared routes over the core services, one error
envelope, an OpenAPI document derived from the declarations, and offline docs."""
