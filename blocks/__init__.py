"""Block Kit builders and Jinja2 text templates (pure: domain objects in, slack_sdk models out).

Empty until the Slack layer (issue #3); core's readiness summary is what they will render.
"""
